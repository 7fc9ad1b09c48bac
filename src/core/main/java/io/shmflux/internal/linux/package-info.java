/** Internal: not exported, not API. */
@NullMarked
package io.shmflux.internal.linux;

import org.jspecify.annotations.NullMarked;
