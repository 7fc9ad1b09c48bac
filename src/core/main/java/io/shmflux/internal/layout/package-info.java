/** Internal: not exported, not API. */
@NullMarked
package io.shmflux.internal.layout;

import org.jspecify.annotations.NullMarked;
