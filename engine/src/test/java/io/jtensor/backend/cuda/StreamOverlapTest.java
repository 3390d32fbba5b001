package io.jtensor.backend.cuda;

import static io.jtensor.backend.cuda.GpuCheck.assertSameBytes;
import static io.jtensor.backend.cuda.GpuCheck.gpu;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.backend.Backends;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two independent models run at the same time on one GPU, each queued from its own Java thread on its own
 * {@link CudaStream}, and each gives exactly the result it gives alone on the default stream.
 *
 * <p>A "model" is a chain of LAYERS products with N x N weights, each followed by relu, on jtensor's own F32 GEMM
 * (named per call, so that -Djtensor.cuda.gemm cannot switch it to cuBLAS, whose kernel choice may change when
 * several streams are busy; ours is fixed by shapes and layouts, so results are bitwise repeatable). At N = 2048 a
 * product is ~17 GFLOP, ~0.7 ms at the 26 TFLOP/s measured on an H200, so a model is ~20 ms of GPU time, while
 * queueing its 60 launches takes the host about a millisecond.
 *
 * <p>How the overlap is shown: thread A queues all of model A (timing events at its start, after its first layer,
 * and at its end) before thread B starts queueing; B's stream first waits for A's first layer, then records its
 * start, runs model B, and records its end. Nothing waits on the host until both are queued. With a common reference
 * event recorded after a device synchronize, we assert that the intervals overlap (startA < endB and startB < endA)
 * and, more strongly, that B's first layer has finished before A's last: B ran while A still had work queued.
 *
 * <p>Why this cannot pass when the streams are serialised: if both threads' work landed on one stream (a current
 * stream that did not take effect), or the GPU ran one stream to the end before the other, every piece of B, which is
 * queued only after all of A, would begin after A's end event: startB >= endA and the assertion fails. The wait on
 * A's first layer rules out the opposite order (B done before A begins), so the only way to pass is B making
 * progress while A's 29 later layers were still pending.
 */
class StreamOverlapTest {
    private static final int N = 2048;
    private static final int LAYERS = 30;

    /** Events one model records on its stream. */
    private record Marks(CudaEvent start, CudaEvent firstLayer, CudaEvent end) implements AutoCloseable {
        static Marks create(Device d) {
            return new Marks(CudaEvent.create(d, true), CudaEvent.create(d, true), CudaEvent.create(d, true));
        }

        @Override public void close() {
            start.close();
            firstLayer.close();
            end.close();
        }
    }

    @Test
    void twoModelsOnTwoStreamsOverlapAndMatchTheirSoloRuns() throws Exception {
        Device g = gpu();
        assumeFalse("1".equals(System.getenv("CUDA_LAUNCH_BLOCKING")),
                "CUDA_LAUNCH_BLOCKING=1 makes every kernel launch wait for the kernel: two streams cannot overlap");
        NDArray xA = null, xB = null, refA = null, refB = null;
        NDArray[] wA = new NDArray[LAYERS], wB = new NDArray[LAYERS];
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try (CudaStream sA = CudaStream.create(g); CudaStream sB = CudaStream.create(g);
             Marks mA = Marks.create(g); Marks mB = Marks.create(g); CudaEvent reference = CudaEvent.create(g, true)) {
            xA = input(g, 1);
            xB = input(g, 2);
            for (int i = 0; i < LAYERS; i++) {
                wA[i] = weight(g, 100 + i);
                wB[i] = weight(g, 200 + i);
            }
            // Each model alone on the default stream: the expected results, and a warm-up (kernels loaded, code
            // compiled). One run on each model's stream fills that stream's cache in the allocator, which reuses blocks
            // per stream: the timed run then never calls cuMemAlloc, which could serialise the streams by itself.
            refA = model(xA, wA, null);
            refB = model(xB, wB, null);
            warmUp(sA, xA, wA);
            warmUp(sB, xB, wB);
            Backends.cuda().synchronize(g);
            reference.record(CudaStreams.defaultStream(g));

            CountDownLatch aQueued = new CountDownLatch(1);
            final NDArray inA = xA, inB = xB;
            Future<NDArray> futureA = threads.submit(() -> {
                try (var use = CudaStreams.use(sA)) {
                    mA.start().record(sA);
                    NDArray out = model(inA, wA, mA.firstLayer());
                    mA.end().record(sA);
                    return out;
                } finally {
                    aQueued.countDown();
                }
            });
            Future<NDArray> futureB = threads.submit(() -> {
                if (!aQueued.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("model A was not queued within 60 s");
                try (var use = CudaStreams.use(sB)) {
                    sB.waitFor(mA.firstLayer());  // B starts only once A's first layer is done, with 29 more queued
                    mB.start().record(sB);
                    NDArray out = model(inB, wB, mB.firstLayer());
                    mB.end().record(sB);
                    return out;
                }
            });
            try (NDArray outA = futureA.get(120, TimeUnit.SECONDS); NDArray outB = futureB.get(120, TimeUnit.SECONDS)) {
                float startA = reference.elapsedMillis(mA.start()), endA = reference.elapsedMillis(mA.end());
                float startB = reference.elapsedMillis(mB.start()), firstB = reference.elapsedMillis(mB.firstLayer());
                float endB = reference.elapsedMillis(mB.end());
                String times = String.format("ms after the reference: A [%.3f, %.3f], B [%.3f, %.3f], B's first layer done at %.3f",
                        startA, endA, startB, endB, firstB);
                assertTrue(endA - startA > 1, "model A should take milliseconds of GPU time: " + times);
                assertTrue(startA < endB && startB < endA, "the two models' intervals overlap: " + times);
                assertTrue(firstB < endA, "B's first layer finished while A still ran: " + times);
                // Reading back waits on each stream's own work (the result was made on it).
                try (var use = CudaStreams.use(sA)) {
                    assertSameBytes("model A on its stream, concurrent with B, against A alone", refA, outA);
                }
                try (var use = CudaStreams.use(sB)) {
                    assertSameBytes("model B on its stream, concurrent with A, against B alone", refB, outB);
                }
            }
        } finally {
            threads.shutdownNow();
            Backends.cuda().synchronize(g);
            for (NDArray a : new NDArray[] {xA, xB, refA, refB}) if (a != null) a.close();
            for (NDArray[] ws : new NDArray[][] {wA, wB}) for (NDArray w : ws) if (w != null) w.close();
        }
    }

    /** Runs a model once on stream s and waits for it. */
    private static void warmUp(CudaStream s, NDArray x, NDArray[] w) {
        try (var use = CudaStreams.use(s); NDArray out = model(x, w, null)) {
            s.synchronize();
        }
    }

    /** A [1, N, N] input, standard normal. */
    private static NDArray input(Device g, long seed) {
        return NDArray.randn(new Generator(seed), DType.F32, g, 1, N, N);
    }

    /** A [1, N, N] weight, normal with std sqrt(2/N), so that relu layers keep the activations' scale. */
    private static NDArray weight(Device g, long seed) {
        try (NDArray w = NDArray.randn(new Generator(seed), DType.F32, g, 1, N, N)) {
            return w.mul(Math.sqrt(2.0 / N));
        }
    }

    /**
     * relu(... relu(relu(x @ w[0]) @ w[1]) ... @ w[LAYERS-1]), queued on the calling thread's current stream with our
     * own GEMM; afterFirst (when not null) is recorded on that stream after the first layer.
     */
    private static NDArray model(NDArray x, NDArray[] w, CudaEvent afterFirst) {
        NDArray h = null;
        for (int i = 0; i < w.length; i++) {
            NDArray product = NDArray.empty(DType.F32, x.device(), 1, N, N);
            try {
                CudaGemm.matmul(h == null ? x : h, w[i], product, CudaGemm.Impl.JTENSOR);
                if (h != null) h.close();
                h = product.relu();
            } finally {
                product.close();
            }
            if (i == 0 && afterFirst != null) afterFirst.record();
        }
        return h;
    }
}
