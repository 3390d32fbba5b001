package io.jtensor.cli;

/**
 * A worker for LaunchCommandTest: says who it is (from torchrun's or Open MPI's variables), fails on purpose, or
 * loops through "steps" until it is stopped.
 */
public final class LaunchTestWorker {
    public static void main(String[] args) throws InterruptedException {
        String rank = env("RANK", "OMPI_COMM_WORLD_RANK");
        String size = env("WORLD_SIZE", "OMPI_COMM_WORLD_SIZE");
        String local = env("LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK");
        switch (args[0]) {
            case "hello" -> {
                System.out.println("hello from " + rank + " of " + size + " local " + local
                        + " master " + System.getenv("MASTER_ADDR") + ":" + System.getenv("MASTER_PORT"));
                System.err.println("err line of " + rank);
            }
            case "fail" -> {
                if (rank.equals("1")) {
                    System.out.println("failing on purpose");
                    System.exit(3);
                }
                System.out.println("ready pid=" + ProcessHandle.current().pid());
                Thread.sleep(60_000);
                System.out.println("still running after 60 s (wrong)");
            }
            case "steps" -> {
                System.out.println("ready pid=" + ProcessHandle.current().pid());
                for (int step = 0; ; step++) {
                    System.out.println("step " + step);
                    Thread.sleep(200);
                }
            }
            case "mpi-steps" -> {
                // A training-like loop over a real MPI process group: a killed peer leaves this rank inside a collective.
                io.jtensor.distributed.ProcessGroup pg = io.jtensor.distributed.ProcessGroup.init("mpi");
                System.out.println("ready pid=" + ProcessHandle.current().pid());
                try (io.jtensor.NDArray g = io.jtensor.NDArray.ones(1000)) {
                    for (int step = 0; ; step++) {
                        pg.allReduce(g, io.jtensor.distributed.ProcessGroup.ReduceOp.AVERAGE);
                        if (step % 10 == 0) System.out.println("step " + step);
                        Thread.sleep(20);
                    }
                }
            }
            default -> throw new IllegalArgumentException("LaunchTestWorker: unknown mode " + args[0]);
        }
    }

    private static String env(String torchrun, String mpi) {
        String v = System.getenv(torchrun);
        return v != null ? v : System.getenv(mpi);
    }
}
