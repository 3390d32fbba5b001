package io.jtensor.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading the rendezvous from the environment, the timeout setting and init's refusals (no processes needed). */
class RendezvousTest {
    @Test
    void openMpiVariablesWinAndGiveRankSizeAndLocalRank() {
        Rendezvous r = Rendezvous.fromEnvironment(Map.of("OMPI_COMM_WORLD_RANK", "3", "OMPI_COMM_WORLD_SIZE", "4",
                "OMPI_COMM_WORLD_LOCAL_RANK", "1", "RANK", "0", "WORLD_SIZE", "1"));
        assertEquals(new Rendezvous(3, 4, 1, "mpirun", null, 0), r);
        assertTrue(r.underMpirun());
    }

    @Test
    void torchrunVariablesGiveTheMasterToo() {
        Rendezvous r = Rendezvous.fromEnvironment(Map.of("RANK", "2", "WORLD_SIZE", "4", "LOCAL_RANK", "0",
                "MASTER_ADDR", "10.0.0.7", "MASTER_PORT", "29500"));
        assertEquals(new Rendezvous(2, 4, 0, "torchrun", "10.0.0.7", 29500), r);
    }

    @Test
    void noVariablesIsAJobOfOne() {
        assertEquals(new Rendezvous(0, 1, 0, "single", null, 0), Rendezvous.fromEnvironment(Map.of()));
    }

    @Test
    void badVariablesFailNamingTheVariableAndValue() {
        var e = assertThrows(IllegalArgumentException.class, () -> Rendezvous.fromEnvironment(Map.of("RANK", "x", "WORLD_SIZE", "2")));
        assertEquals("Rendezvous: RANK must be a non-negative integer, got 'x'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Rendezvous.fromEnvironment(Map.of("RANK", "2", "WORLD_SIZE", "2")));
        assertEquals("Rendezvous: RANK=2 does not fit WORLD_SIZE=2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Rendezvous.fromEnvironment(Map.of("RANK", "1", "WORLD_SIZE", "2")));
        assertTrue(e.getMessage().startsWith("Rendezvous: WORLD_SIZE=2 needs MASTER_ADDR and MASTER_PORT"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Rendezvous.fromEnvironment(Map.of("OMPI_COMM_WORLD_RANK", "0")));
        assertEquals("Rendezvous: OMPI_COMM_WORLD_SIZE is not set (the launcher sets it with the other rank variables)", e.getMessage());
    }

    @Test
    void theTimeoutIsReadInSecondsAndDefaultsToTenMinutes() {
        String old = System.getProperty(ProcessGroup.TIMEOUT_PROPERTY);
        try {
            System.clearProperty(ProcessGroup.TIMEOUT_PROPERTY);
            assertEquals(Duration.ofMinutes(10), AbstractProcessGroup.configuredTimeout());
            System.setProperty(ProcessGroup.TIMEOUT_PROPERTY, "2.5");
            assertEquals(Duration.ofMillis(2500), AbstractProcessGroup.configuredTimeout());
            System.setProperty(ProcessGroup.TIMEOUT_PROPERTY, "soon");
            var e = assertThrows(IllegalArgumentException.class, AbstractProcessGroup::configuredTimeout);
            assertEquals("-Djtensor.distributed.timeout: expected seconds (a positive number), got 'soon'", e.getMessage());
            System.setProperty(ProcessGroup.TIMEOUT_PROPERTY, "0");
            assertThrows(IllegalArgumentException.class, AbstractProcessGroup::configuredTimeout);
        } finally {
            if (old == null) System.clearProperty(ProcessGroup.TIMEOUT_PROPERTY);
            else System.setProperty(ProcessGroup.TIMEOUT_PROPERTY, old);
        }
    }

    @Test
    void initRefusesUnknownBackendsAndMpiWithoutMpirun() {
        var e = assertThrows(IllegalArgumentException.class, () -> ProcessGroup.init("gloo"));
        assertEquals("ProcessGroup.init: expected \"nccl\" or \"mpi\", got \"gloo\"", e.getMessage());
        var s = assertThrows(IllegalStateException.class,
                () -> MpiProcessGroup.create(new Rendezvous(0, 2, 0, "torchrun", "localhost", 29500), Duration.ofSeconds(1)));
        assertTrue(s.getMessage().contains("start them with mpirun (or jtensor launch --backend mpi)"), s.getMessage());
    }
}
