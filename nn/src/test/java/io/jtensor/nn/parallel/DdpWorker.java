package io.jtensor.nn.parallel;

import io.jtensor.distributed.ProcessGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One rank of an mpirun job for {@link DdpMpiTest}: {@code DdpWorker SCENARIO OUTDIR} trains its shard of the
 * scenario and writes {@code OUTDIR/rank-R.txt}: the final state ("state NAME v,v,..."), the bucket launch order of
 * the last step ("launch ...") and the buckets ("buckets ...").
 */
public final class DdpWorker {
    private DdpWorker() {}

    public static void main(String[] args) throws IOException {
        DdpScenario scenario = DdpScenario.valueOf(args[0]);
        Path dir = Path.of(args[1]);
        try (ProcessGroup group = ProcessGroup.init("mpi")) {
            DistributedDataParallel[] ddp = new DistributedDataParallel[1];
            Map<String, double[]> state = scenario.train(scenario.model(), group, ddp);
            List<String> lines = new ArrayList<>();
            state.forEach((k, v) -> lines.add("state " + k + " " + String.join(",", Arrays.stream(v).mapToObj(Double::toString).toList())));
            lines.add("launch " + ddp[0].lastLaunchOrder());
            lines.add("buckets " + ddp[0].bucketParameterNames());
            Path tmp = dir.resolve("rank-" + group.rank() + ".tmp");
            Files.write(tmp, lines);
            Files.move(tmp, dir.resolve("rank-" + group.rank() + ".txt"));
        }
    }
}
