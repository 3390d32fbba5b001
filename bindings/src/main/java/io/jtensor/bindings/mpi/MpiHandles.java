package io.jtensor.bindings.mpi;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;

/**
 * The predefined MPI handles of one MPI implementation, as the values {@link Mpi}'s calls take. The one place that
 * knows how an implementation spells them, so that another (MPICH's integer handles, say) is one more class.
 *
 * <p>Open MPI ({@link #openMpi}): {@code MPI_COMM_WORLD}, {@code MPI_FLOAT}, {@code MPI_SUM}, ... are the
 * <em>addresses</em> of exported globals ({@code ompi_mpi_comm_world}, {@code ompi_mpi_float},
 * {@code ompi_mpi_op_sum}); {@code MPI_IN_PLACE} is {@code (void*) 1} and {@code MPI_STATUS_IGNORE} is
 * {@code NULL} (mpi.h of Open MPI 4 and 5).
 */
public record MpiHandles(String implementation, long commWorld, long errorsReturn,
                         long byteType, long floatType, long doubleType, long int8Type, long uint8Type,
                         long int32Type, long int64Type,
                         long opSum, long opMax, long opMin,
                         long inPlace, long statusIgnore) {

    /** The handles of Open MPI, looked up in its libmpi. */
    static MpiHandles openMpi(SymbolLookup lib) {
        return new MpiHandles("Open MPI",
                global(lib, "ompi_mpi_comm_world"), global(lib, "ompi_mpi_errors_return"),
                global(lib, "ompi_mpi_byte"), global(lib, "ompi_mpi_float"), global(lib, "ompi_mpi_double"),
                global(lib, "ompi_mpi_int8_t"), global(lib, "ompi_mpi_uint8_t"),
                global(lib, "ompi_mpi_int32_t"), global(lib, "ompi_mpi_int64_t"),
                global(lib, "ompi_mpi_op_sum"), global(lib, "ompi_mpi_op_max"), global(lib, "ompi_mpi_op_min"),
                1L, 0L);
    }

    private static long global(SymbolLookup lib, String symbol) {
        MemorySegment s = lib.find(symbol).orElseThrow(() ->
                new UnsatisfiedLinkError("MPI: symbol " + symbol + " not found (is this Open MPI's libmpi?)"));
        return s.address();
    }
}
