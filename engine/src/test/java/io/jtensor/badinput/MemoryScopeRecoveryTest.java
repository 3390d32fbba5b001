package io.jtensor.badinput;

import static io.jtensor.badinput.BadInput.fails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.memory.MemoryScope;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A scope closed the wrong way (out of order, twice, from another thread) is an error, and afterwards the thread's
 * scopes are exactly the ones opened before it: nothing stays held by a dead scope, and new scopes work as usual.
 */
class MemoryScopeRecoveryTest {
    private static final Device HOME = Device.cpu(8);

    private static long live() { return BadInput.stats(HOME).count(); }

    @Test
    void closingAnOuterScopeFirstClosesTheInnerOnesAndLeavesTheStackSound() {
        assertFalse(MemoryScope.active());
        long before = live();
        MemoryScope outer = MemoryScope.open();
        NDArray.zeros(DType.F32, HOME, 1000);
        MemoryScope middle = MemoryScope.open();
        NDArray.zeros(DType.F32, HOME, 1000);
        MemoryScope inner = MemoryScope.open();
        NDArray.zeros(DType.F32, HOME, 1000);
        fails(IllegalStateException.class, outer::close, "MemoryScope closed out of order", "2 inner scope(s)");
        assertFalse(MemoryScope.active(), "a dead scope is still on the thread's stack");
        assertEquals(before, live(), "arrays of the closed scopes are still allocated");
        inner.close(); // already closed with the outer: a no-op
        middle.close();
        NDArray untracked = NDArray.zeros(DType.F32, HOME, 10);
        assertEquals(before + 1, live(), "a new array outside any scope belongs to nobody");
        untracked.close();
        try (MemoryScope again = MemoryScope.open()) {
            NDArray.zeros(DType.F32, HOME, 10);
            assertTrue(MemoryScope.active());
        }
        assertEquals(before, live());
        assertFalse(MemoryScope.active());
    }

    @Test
    void aKeptArrayOfAForceClosedInnerScopeMovesToTheOuterAndIsClosedWithIt() {
        long before = live();
        try (MemoryScope outer = MemoryScope.open()) {
            MemoryScope inner = MemoryScope.open();
            NDArray kept = inner.keep(NDArray.zeros(DType.F32, HOME, 10));
            assertEquals(before + 1, live());
            MemoryScope innermost = MemoryScope.open();
            NDArray.zeros(DType.F32, HOME, 10);
            fails(IllegalStateException.class, inner::close, "out of order", "1 inner scope(s)");
            assertTrue(MemoryScope.active(), "the outer scope is still open");
            assertFalse(kept.isClosed(), "kept into the outer scope");
            innermost.close();
        }
        assertEquals(before, live());
        assertFalse(MemoryScope.active());
    }

    @Test
    void anotherThreadCannotCloseAScopeAndChangesNothing() throws Exception {
        long before = live();
        MemoryScope mine = MemoryScope.open();
        NDArray a = NDArray.zeros(DType.F32, HOME, 10);
        Throwable t = CompletableFuture.supplyAsync(() -> {
            try {
                mine.close();
                return null;
            } catch (Throwable e) {
                return e;
            }
        }).get(30, TimeUnit.SECONDS);
        assertTrue(t instanceof IllegalStateException && t.getMessage().contains("belongs to thread"), String.valueOf(t));
        assertFalse(a.isClosed());
        assertTrue(MemoryScope.active());
        mine.close();
        assertTrue(a.isClosed());
        assertEquals(before, live());
        assertFalse(MemoryScope.active());
    }
}
