package io.shmflux.aeron;

import io.aeron.driver.MediaDriver;
import io.aeron.driver.ext.DebugReceiveChannelEndpoint;
import io.aeron.driver.ext.DebugSendChannelEndpoint;
import io.aeron.driver.ext.LossGenerator;
import io.aeron.protocol.DataHeaderFlyweight;
import io.aeron.protocol.HeaderFlyweight;
import org.agrona.concurrent.UnsafeBuffer;

import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Frame loss for a child's media driver, through Aeron's own debug endpoints
 * ({@link DebugReceiveChannelEndpoint}, {@link DebugSendChannelEndpoint}), with one loss generator per
 * place a frame can be dropped, each counting what it dropped by frame type, so that a test can show
 * that loss happened instead of trusting a rate.
 *
 * <p>The spec is {@code exact} (no loss) or a comma-separated list of {@code WHERE:RATE[:FIRST]}: drop
 * frames at random at {@code RATE} (seeded), and before that the first {@code FIRST} data frames that
 * carry a payload (not heartbeats). {@code WHERE} is one of {@link Where}'s names in lower case with
 * dashes ({@code receive-data}, {@code receive-control}, {@code send-data}, {@code send-control}).
 */
final class FrameLoss {

    /** Where a debug endpoint asks its loss generator, as Aeron's {@code aeron.debug.*} properties name them. */
    enum Where {
        /** Data, heartbeat and setup frames a subscription's endpoint receives. */
        RECEIVE_DATA,
        /** Status messages and NAKs a subscription's endpoint sends back. */
        RECEIVE_CONTROL,
        /** Data, heartbeat and setup frames a publication's endpoint sends. */
        SEND_DATA,
        /** Status messages, NAKs and RTT measurements a publication's endpoint receives. */
        SEND_CONTROL;

        static Where of(String name) {
            return valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_'));
        }
    }

    private static final long SEED = 14;

    private final Map<Where, Generator> generators = new EnumMap<>(Where.class);

    private FrameLoss() {
    }

    /** {@return the loss the spec describes} */
    static FrameLoss parse(String spec) {
        FrameLoss loss = new FrameLoss();
        if (spec.equals("exact")) {
            return loss;
        }
        for (String part : spec.split(",")) {
            String[] fields = part.split(":");
            loss.generators.put(Where.of(fields[0]), new Generator(Double.parseDouble(fields[1]),
                    fields.length > 2 ? Integer.parseInt(fields[2]) : 0));
        }
        return loss;
    }

    /** {@return true if any frame is to be dropped} */
    boolean any() {
        return !generators.isEmpty();
    }

    /** Makes the driver create its UDP endpoints as Aeron's debug endpoints with these generators. */
    void install(MediaDriver.Context context) {
        context.receiveChannelEndpointSupplier((channel, dispatcher, status, ctx) -> new DebugReceiveChannelEndpoint(
                channel, dispatcher, status, ctx, generator(Where.RECEIVE_DATA), generator(Where.RECEIVE_CONTROL)));
        context.sendChannelEndpointSupplier((channel, status, ctx) -> new DebugSendChannelEndpoint(
                channel, status, ctx, generator(Where.SEND_DATA), generator(Where.SEND_CONTROL)));
    }

    /** {@return what was dropped, e.g. {@code dropped-receive-data-data=12 dropped-send-control-sm=3 ...}} */
    String counts() {
        StringBuilder counts = new StringBuilder();
        generators.forEach((where, generator) -> generator.dropped.forEach((type, n) -> counts.append(" dropped-")
                .append(where.name().toLowerCase(Locale.ROOT).replace('_', '-')).append('-').append(type)
                .append('=').append(n.get())));
        return counts.toString().trim();
    }

    private LossGenerator generator(Where where) {
        Generator generator = generators.get(where);
        return generator != null ? generator : (address, buffer, length) -> false;
    }

    /**
     * Drops the first {@code first} data frames with a payload, then frames at {@code rate}. Called by
     * the driver's one thread ({@code SHARED}); the counts are read by the child's main thread.
     */
    private static final class Generator implements LossGenerator {
        private final double rate;
        private final Random random = new Random(SEED);
        private int first;
        private final Map<String, AtomicLong> dropped = new ConcurrentSkipListMap<>();

        Generator(double rate, int first) {
            this.rate = rate;
            this.first = first;
            for (String type : new String[] {"data", "heartbeat", "sm", "nak", "other"}) {
                dropped.put(type, new AtomicLong());
            }
        }

        @Override
        public boolean shouldDropFrame(InetSocketAddress address, UnsafeBuffer buffer, int length) {
            int type = buffer.getShort(HeaderFlyweight.TYPE_FIELD_OFFSET, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
            boolean payload = type == HeaderFlyweight.HDR_TYPE_DATA && length > DataHeaderFlyweight.HEADER_LENGTH;
            boolean drop;
            if (payload && first > 0) {
                first--;
                drop = true;
            } else {
                drop = random.nextDouble() < rate;
            }
            if (drop) {
                dropped.get(switch (type) {
                    case HeaderFlyweight.HDR_TYPE_DATA -> payload ? "data" : "heartbeat";
                    case HeaderFlyweight.HDR_TYPE_SM -> "sm";
                    case HeaderFlyweight.HDR_TYPE_NAK -> "nak";
                    default -> "other";
                }).incrementAndGet();
            }
            return drop;
        }
    }
}
