package io.jtensor.nn.parallel;

import io.jtensor.DType;
import io.jtensor.Device;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Splits gradients into all-reduce buckets the way PyTorch's Reducer does
 * ({@code compute_bucket_assignment_by_size}): parameters are taken in a given order (reverse registration order
 * before the first step, the order gradients became ready after it); each (dtype, device) pair fills buckets of its
 * own, because one all-reduce moves one dtype on one device; a bucket is closed once it holds at least its limit,
 * which is {@code firstBytes} for the first bucket of each pair and {@code capBytes} for the others.
 *
 * <p>Why these sizes (PyTorch's defaults, 1 MiB then 25 MiB): a bucket's all-reduce can start only when all its
 * gradients exist, so the first bucket is small to put communication on the wire soon after backward begins (in
 * reverse order its gradients are the last layers', the first to be ready); the later ones are large because each
 * collective has a fixed cost (tens of microseconds for NCCL, a rendezvous for MPI) that 25 MiB amortises: Li et
 * al., "PyTorch Distributed" (VLDB 2020, figure 7), measured ResNet-50 and BERT iterations fastest with buckets of
 * 10 to 50 MB on NCCL and Gloo, and slower at 1 MB (too many collectives) and at 200 MB (too little overlap).
 * Our own CPU figures (bench/RESULTS.md, 2 MPI ranks on 2 shared cores) show the other side: where communication
 * has no resources of its own, Open MPI's spinning collectives compete with backward and 8 early buckets made the BERT
 * encoder 30% slower than one bucket after backward; the defaults are kept for the hosts DDP is for (NCCL, networks),
 * and {@code bucketCapMb} is there to change.
 */
final class BucketAssignment {
    /** PyTorch's {@code dist._DEFAULT_FIRST_BUCKET_BYTES}. */
    static final long DEFAULT_FIRST_BUCKET_BYTES = 1L << 20;
    /** PyTorch's {@code bucket_cap_mb} default. */
    static final double DEFAULT_BUCKET_CAP_MB = 25;

    /** What the assignment needs to know of one gradient. */
    record Slot(DType dtype, Device device, long bytes) {}

    private BucketAssignment() {}

    /**
     * Buckets of indices into {@code slots}, each list in the order given; the buckets are ordered by the position of
     * their first index in {@code order}, so that the bucket holding the first-ready gradients comes first.
     */
    static List<List<Integer>> bySize(List<Slot> slots, List<Integer> order, long firstBytes, long capBytes) {
        record Key(DType dtype, Device device) {}
        final class Open {
            final List<Integer> members = new ArrayList<>();
            long bytes;
            long limit = firstBytes;
        }
        Map<Key, Open> open = new LinkedHashMap<>();
        List<List<Integer>> done = new ArrayList<>();
        for (int i : order) {
            Slot s = slots.get(i);
            Open b = open.computeIfAbsent(new Key(s.dtype(), s.device()), k -> new Open());
            b.members.add(i);
            b.bytes += s.bytes();
            if (b.bytes >= b.limit) {
                done.add(List.copyOf(b.members));
                b.members.clear();
                b.bytes = 0;
                b.limit = capBytes;
            }
        }
        for (Open b : open.values()) if (!b.members.isEmpty()) done.add(List.copyOf(b.members));
        int[] position = new int[slots.size()];
        for (int p = 0; p < order.size(); p++) position[order.get(p)] = p;
        done.sort((a, c) -> Integer.compare(position[a.get(0)], position[c.get(0)]));
        return done;
    }
}
