/** Two sample processes: a mapping replicated over Aeron, and a replica of it (see src/site/markdown/aeron.md). */
@NullMarked
package io.shmflux.samples.aeron;

import org.jspecify.annotations.NullMarked;
