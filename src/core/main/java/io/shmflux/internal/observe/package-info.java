/**
 * What the library tells an observer, without any dependency: JFR events named {@code io.shmflux.*}
 * (category "shmflux") for the life of objects and for the change feed's rare outcomes, and
 * {@link java.lang.System.Logger} records (logger {@code io.shmflux}) for the rare events an operator
 * wants to read about. See {@code src/site/markdown/observability.md}.
 */
@NullMarked
package io.shmflux.internal.observe;

import org.jspecify.annotations.NullMarked;
