package io.jtensor.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.ReduceOp;
import io.jtensor.backend.UnaryOp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The op codes Java sends must be the ones kernels/cu/ops.cuh defines. */
class KernelCodesTest {
    private static Map<String, Integer> defines() throws IOException {
        Path p = Path.of("../kernels/cu/ops.cuh");
        if (!Files.exists(p)) p = Path.of("kernels/cu/ops.cuh");
        Map<String, Integer> m = new HashMap<>();
        Matcher mt = Pattern.compile("#define ([A-Z0-9_]+) (\\d+)").matcher(Files.readString(p));
        while (mt.find()) m.put(mt.group(1), Integer.parseInt(mt.group(2)));
        return m;
    }

    @Test
    void everyOpMatchesTheHeader() throws IOException {
        Map<String, Integer> d = defines();
        for (UnaryOp op : UnaryOp.values()) {
            Integer v = d.get("U_" + op.name());
            assertNotNull(v, "ops.cuh lacks U_" + op.name());
            assertEquals(v, KernelCodes.unary(op), op.name());
        }
        for (BinaryOp op : BinaryOp.values()) {
            Integer v = d.get("B_" + op.name());
            assertNotNull(v, "ops.cuh lacks B_" + op.name());
            assertEquals(v, KernelCodes.binary(op), op.name());
        }
        for (ReduceOp op : ReduceOp.values()) {
            Integer v = d.get("R_" + op.name());
            assertNotNull(v, "ops.cuh lacks R_" + op.name());
            assertEquals(v, KernelCodes.reduce(op), op.name());
        }
        assertEquals(d.get("E_INDEX_OUT_OF_RANGE"), KernelCodes.E_INDEX_OUT_OF_RANGE);
        assertEquals(d.get("E_DIVISION_BY_ZERO"), KernelCodes.E_DIVISION_BY_ZERO);
        assertEquals(d.get("E_NEGATIVE_EXPONENT"), KernelCodes.E_NEGATIVE_EXPONENT);
    }

    @Test
    void kernelNamesFollowFamilyOpDtype() {
        assertEquals("elementwise_unary_bf16", KernelCodes.names("elementwise_unary_")[io.jtensor.DType.BF16.ordinal()]);
        assertEquals("copy_bits_b16", KernelCodes.widthNames("copy_bits_")[io.jtensor.DType.F16.ordinal()]);
        assertEquals("copy_bits_b8", KernelCodes.widthNames("copy_bits_")[io.jtensor.DType.BOOL.ordinal()]);
    }
}
