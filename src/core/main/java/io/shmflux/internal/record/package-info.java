/**
 * How a Java record is laid out in shared memory and copied in and out of it: the layout derived
 * from the record's components, and encoders and decoders built once as method handles.
 */
@NullMarked
package io.shmflux.internal.record;

import org.jspecify.annotations.NullMarked;
