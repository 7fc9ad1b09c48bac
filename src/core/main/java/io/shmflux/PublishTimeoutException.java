package io.shmflux;

/**
 * A {@code publish} waited longer than the object's publish timeout
 * ({@link MappingOptions#withPublishTimeout}) for a live {@link ChangeOptions.Overflow#BACK_PRESSURE}
 * subscriber to take the change that the new one would overwrite. Nothing was published and the
 * writer was not run; the message names the subscriber's process ({@code subscriberPid=...}).
 */
public class PublishTimeoutException extends SharedMemoryException {

    private static final long serialVersionUID = 1L;

    private final long subscriberPid;

    public PublishTimeoutException(String message, long subscriberPid) {
        super(message);
        this.subscriberPid = subscriberPid;
    }

    /** {@return the process of the subscriber that held the publisher back} */
    public long subscriberPid() {
        return subscriberPid;
    }
}
