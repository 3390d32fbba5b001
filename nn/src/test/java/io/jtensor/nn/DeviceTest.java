package io.jtensor.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;
import io.jtensor.backend.Backends;
import io.jtensor.nn.models.LeNet5;
import io.jtensor.nn.models.RowReader;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Modules moved to a GPU compute what they compute on the CPU, with the same parameter objects. */
class DeviceTest {
    private static Device gpu() {
        Assumptions.assumeTrue(Backends.cudaAvailable(), () -> "no CUDA device: " + Backends.cudaUnavailableReason());
        return Device.cuda(0);
    }

    private static void compareOnDevice(Module cpuModel, Module gpuModel, Tensor x, Device d) {
        gpuModel.loadStateDict(cpuModel.stateDict());
        List<Tensor> params = gpuModel.parameters();
        gpuModel.to(d);
        List<Tensor> moved = gpuModel.parameters();
        for (int i = 0; i < params.size(); i++) {
            assertSame(params.get(i), moved.get(i));
            assertEquals(d, moved.get(i).device());
        }
        Tensor yc = cpuModel.forward(x);
        Tensor yg = gpuModel.forward(x.to(d));
        NnTesting.assertClose(yc.toDoubleArray(), yg.to(Device.cpu()).toDoubleArray(), 1e-4, "forward on " + d);
        yc.sum().backward();
        yg.sum().backward();
        for (int i = 0; i < params.size(); i++) {
            NnTesting.assertClose(cpuModel.parameters().get(i).grad().toDoubleArray(), moved.get(i).grad().toDoubleArray(), 1e-3,
                    "gradient " + i + " on " + d);
        }
        for (var e : gpuModel.namedBuffers().entrySet()) assertEquals(d, e.getValue().device(), e.getKey());
        gpuModel.to(Device.cpu());
        assertEquals(Device.cpu(), gpuModel.parameters().get(0).device());
    }

    @Test void lenet5WithBatchNormOnTheGpu() {
        Device d = gpu();
        Tensor x = Tensor.rand(new Generator(1), io.jtensor.DType.F32, Device.cpu(), 4, 1, 28, 28);
        compareOnDevice(LeNet5.withBatchNorm(), LeNet5.withBatchNorm(), x, d);
    }

    @Test void gruRowReaderOnTheGpu() {
        Device d = gpu();
        Tensor x = Tensor.rand(new Generator(2), io.jtensor.DType.F32, Device.cpu(), 3, 1, 28, 28);
        compareOnDevice(new RowReader(RowReader.CellType.GRU, 28, 16, 1, true, 10), new RowReader(RowReader.CellType.GRU, 28, 16, 1, true, 10), x, d);
    }
}
