package io.jtensor.distributed;

import java.util.Map;

/**
 * Where this process stands in its job, read from the environment that a launcher set: the one place that reads
 * the rendezvous variables. Sources, in order:
 * <ul>
 *   <li>Open MPI's {@code OMPI_COMM_WORLD_RANK}, {@code OMPI_COMM_WORLD_SIZE}, {@code OMPI_COMM_WORLD_LOCAL_RANK}
 *       (set by {@code mpirun}, also under {@code jtensor launch --backend mpi});</li>
 *   <li>torchrun's {@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK}, {@code MASTER_ADDR}, {@code MASTER_PORT}
 *       (set by {@code jtensor launch} for NCCL, by torchrun, or by hand);</li>
 *   <li>neither: a job of one process (rank 0 of 1).</li>
 * </ul>
 *
 * @param source     "mpirun", "torchrun" or "single"
 * @param masterAddr the rank-0 host of a torchrun-style job (null otherwise)
 * @param masterPort its port (0 when not given)
 */
public record Rendezvous(int rank, int size, int localRank, String source, String masterAddr, int masterPort) {
    public Rendezvous {
        if (size < 1) throw new IllegalArgumentException("Rendezvous: world size must be >= 1, got " + size);
        if (rank < 0 || rank >= size) throw new IllegalArgumentException("Rendezvous: rank " + rank + " is outside 0.." + (size - 1));
        if (localRank < 0) throw new IllegalArgumentException("Rendezvous: local rank must be >= 0, got " + localRank);
    }

    /** Whether MPI wired the processes (then MPI can also carry NCCL's unique id). */
    public boolean underMpirun() { return source.equals("mpirun"); }

    /** This process's environment. */
    public static Rendezvous fromEnvironment() { return fromEnvironment(System.getenv()); }

    /** The rendezvous that {@code env} describes; a malformed or inconsistent variable fails naming it and its value. */
    public static Rendezvous fromEnvironment(Map<String, String> env) {
        if (env.containsKey("OMPI_COMM_WORLD_RANK")) {
            int size = number(env, "OMPI_COMM_WORLD_SIZE", null);
            int rank = number(env, "OMPI_COMM_WORLD_RANK", null);
            int local = number(env, "OMPI_COMM_WORLD_LOCAL_RANK", 0);
            checkRank("OMPI_COMM_WORLD_RANK", rank, "OMPI_COMM_WORLD_SIZE", size);
            return new Rendezvous(rank, size, local, "mpirun", null, 0);
        }
        if (env.containsKey("RANK") || env.containsKey("WORLD_SIZE")) {
            int size = number(env, "WORLD_SIZE", null);
            int rank = number(env, "RANK", null);
            int local = number(env, "LOCAL_RANK", rank);
            checkRank("RANK", rank, "WORLD_SIZE", size);
            String addr = env.get("MASTER_ADDR");
            int port = env.containsKey("MASTER_PORT") ? number(env, "MASTER_PORT", null) : 0;
            if (size > 1 && (addr == null || addr.isBlank() || port <= 0 || port > 65535)) {
                throw new IllegalArgumentException("Rendezvous: WORLD_SIZE=" + size + " needs MASTER_ADDR and MASTER_PORT (1..65535), got MASTER_ADDR="
                        + addr + " MASTER_PORT=" + env.get("MASTER_PORT"));
            }
            return new Rendezvous(rank, size, local, "torchrun", addr, port);
        }
        return new Rendezvous(0, 1, 0, "single", null, 0);
    }

    private static int number(Map<String, String> env, String name, Integer fallback) {
        String v = env.get(name);
        if (v == null) {
            if (fallback != null) return fallback;
            throw new IllegalArgumentException("Rendezvous: " + name + " is not set (the launcher sets it with the other rank variables)");
        }
        try {
            int x = Integer.parseInt(v.trim());
            if (x < 0) throw new NumberFormatException();
            return x;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Rendezvous: " + name + " must be a non-negative integer, got '" + v + "'");
        }
    }

    private static void checkRank(String rankVar, int rank, String sizeVar, int size) {
        if (size < 1 || rank >= size) {
            throw new IllegalArgumentException("Rendezvous: " + rankVar + "=" + rank + " does not fit " + sizeVar + "=" + size);
        }
    }
}
