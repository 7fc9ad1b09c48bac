/** Internal: not exported, not API. */
@NullMarked
package io.shmflux.internal.namespace;

import org.jspecify.annotations.NullMarked;
