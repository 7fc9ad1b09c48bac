package io.shmflux.faults;

import io.shmflux.testing.ChildJvm;
import io.shmflux.testing.NoLeftovers;
import io.shmflux.testing.TestNames;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code createOrOpen} + write + close by 8 processes at once, round after round, so that the last
 * close of one generation races the opens that start the next: exactly one creator per generation
 * (told apart by the data file's inode), a new generation always starts zeroed, and no object is
 * unlinked or replaced while a process holds it.
 */
@Tag("fault")
@Tag("cross-process")
@ExtendWith(NoLeftovers.class)
class CreateCloseRaceFaultTest {

    @Test
    void eightProcessesRacingCreateAndCloseGetOneCreatorPerGenerationAndNeverLoseAHeldObject() {
        int processes = 8;
        int rounds = Campaign.rounds(1_000);
        String name = TestNames.unique("race");
        List<ChildJvm> children = new ArrayList<>();
        Map<Long, int[]> generations = new HashMap<>(); // inode -> {creators, opens}
        int unzeroed = 0;
        int moved = 0;
        try {
            for (int i = 0; i < processes; i++) {
                children.add(ChildJvm.start(Campaign.CHILD_OPTIONS, FaultChild.class, "race", name,
                        Integer.toString(rounds), Integer.toString(i)));
            }
            for (ChildJvm child : children) {
                child.awaitLine("ready"::equals, ChildJvm.DEFAULT_WAIT);
            }
            for (ChildJvm child : children) {
                child.send("go");
            }
            for (ChildJvm child : children) {
                while (true) {
                    String line = child.nextLine(Duration.ofSeconds(120));
                    if (line.startsWith("gen ")) {
                        String[] parts = line.split(" ");
                        int[] counts = generations.computeIfAbsent(Long.parseLong(parts[1]), k -> new int[2]);
                        counts[0] += Integer.parseInt(parts[2]);
                        counts[1]++;
                    } else if (line.startsWith("done ")) {
                        unzeroed += Integer.parseInt(line.replaceAll(".*unzeroed=(\\d+).*", "$1"));
                        moved += Integer.parseInt(line.replaceAll(".*moved=(\\d+).*", "$1"));
                        break;
                    }
                }
                child.awaitBye(ChildJvm.DEFAULT_WAIT);
            }
        } finally {
            children.forEach(ChildJvm::close);
        }
        long badGenerations = generations.values().stream().filter(c -> c[0] != 1).count();
        int opens = generations.values().stream().mapToInt(c -> c[1]).sum();
        Campaign.report("race.createClose", "processes=" + processes + " rounds=" + rounds + " opens=" + opens
                + " generations=" + generations.size() + " badGenerations=" + badGenerations + " unzeroed=" + unzeroed
                + " moved=" + moved + " failures=" + (badGenerations + unzeroed + moved));
        assertEquals(processes * rounds, opens);
        assertEquals(0, badGenerations, "a generation with other than one creator");
        assertEquals(0, unzeroed, "a new generation did not start zeroed");
        assertEquals(0, moved, "an object was destroyed or replaced while held");
        KillNineFaultTest.assertGone(name);
    }
}
