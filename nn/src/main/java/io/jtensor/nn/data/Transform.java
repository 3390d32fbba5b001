package io.jtensor.nn.data;

import io.jtensor.NDArray;
import java.util.random.RandomGenerator;
import java.util.function.UnaryOperator;

/**
 * A function of an array and a random generator, such as a data augmentation. All randomness comes from the
 * generator passed in, so a transform is reproducible: the {@link DataLoader} hands each example (or batch) its
 * own generator derived from (seed, epoch, position), whatever thread runs it.
 *
 * <p>Ownership: {@code apply} leaves {@code x} open and returns an array the caller owns and closes. It may share
 * storage with {@code x} (for example when a random flip decides not to flip), so callers must not write into it.
 */
@FunctionalInterface
public interface Transform {
    NDArray apply(NDArray x, RandomGenerator rng);

    /** This transform, then {@code next} on its result; the intermediate is closed. */
    default Transform andThen(Transform next) {
        return (x, rng) -> {
            try (NDArray mid = apply(x, rng)) {
                return next.apply(mid, rng);
            }
        };
    }

    /** The transforms applied left to right. */
    static Transform compose(Transform... transforms) {
        Transform t = (x, rng) -> x.share();
        for (Transform next : transforms) t = t.andThen(next);
        return t;
    }

    /** This transform with its generator fixed, as a plain function; for use outside a loader. */
    default UnaryOperator<NDArray> with(RandomGenerator rng) { return x -> apply(x, rng); }
}
