package io.jtensor.cli;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Defaults that depend on the optimizer, and checks across flags. */
class TrainOptionsTest {
    private static TrainCommand.Options parse(String... args) {
        return TrainCommand.parse(ParsedArgs.parse("train", TrainCommand.FLAGS, args));
    }

    @Test void defaultsAreTheMeasuredRecipe() {
        TrainCommand.Options o = parse();
        assertEquals("lenet5", o.model());
        assertEquals(10, o.epochs());
        assertEquals("auto", o.device());
        assertEquals(64, o.batchSize());
        assertEquals("sgd", o.optimizer());
        assertEquals(0.05, o.lr());
        assertEquals(0.9, o.momentum());
        assertEquals(0.0, o.weightDecay());
        assertEquals("cosine", o.schedule());
        assertEquals(42, o.seed());
        assertEquals(0, o.limit());
        assertFalse(o.augment());
    }

    @Test void otherOptimizersGetTheirOwnDefaults() {
        TrainCommand.Options adamw = parse("--optimizer", "adamw");
        assertEquals(0.001, adamw.lr());
        assertEquals(0.01, adamw.weightDecay());
        TrainCommand.Options rms = parse("--optimizer", "rmsprop");
        assertEquals(0.001, rms.lr());
        assertEquals(0.0, rms.momentum());
        TrainCommand.Options given = parse("--optimizer", "rmsprop", "--momentum", "0.5", "--lr", "0.003", "--weight-decay", "1e-4");
        assertEquals(0.5, given.momentum());
        assertEquals(0.003, given.lr());
        assertEquals(1e-4, given.weightDecay());
    }

    @Test void recipeLineNamesEverythingNeededToRepeatTheRun() {
        String r = TrainCommand.recipe(parse("--model", "mlp", "--augment", "--seed", "7"), 512);
        assertEquals("mlp on fashion-mnist (512 training images), 10 epochs, batch 64, sgd lr 0.05 momentum 0.9 weight decay 0.0, "
                + "cosine schedule, augmented, seed 7", r);
    }

    @Test void limitMustBePositive() {
        var e = assertThrows(UsageException.class, () -> parse("--limit", "0"));
        assertTrue(e.getMessage().startsWith("--limit"), e.getMessage());
    }

    private static DevicesOption.Parallel parallel(String... args) {
        return TrainCommand.parseParallel(ParsedArgs.parse("train", TrainCommand.FLAGS, args));
    }

    @Test void devicesListsLogicalCpuDevicesCreatedOnDemand() {
        DevicesOption.Parallel p = parallel("--devices", "cpu:0,cpu:3");
        assertEquals(java.util.List.of(io.jtensor.Device.cpu(0), io.jtensor.Device.cpu(3)), p.devices());
        assertFalse(p.parallelCriterion());
        assertEquals("cpu:0,cpu:3", p.names());
        assertTrue(parallel("--devices", "cpu:0,cpu:1", "--parallel-criterion").parallelCriterion());
        assertNull(parallel(), "no --devices: one device");
    }

    @Test void badDeviceListsAreUsageErrors() {
        for (String[] bad : new String[][] {
                {"--devices", "cpu:0,cpu:0"}, {"--devices", "cpu:0,cuda:1"}, {"--devices", "gpu:0"}, {"--devices", "cpu:0,"},
                {"--devices", "cpu:0,cpu:1", "--device", "cpu"}, {"--parallel-criterion"}}) {
            var e = assertThrows(UsageException.class, () -> parallel(bad), String.join(" ", bad));
            assertTrue(e.getMessage().startsWith("--devices") || e.getMessage().startsWith("--parallel-criterion"), e.getMessage());
        }
        assertTrue(assertThrows(UsageException.class, () -> parallel("--devices", "cpu:1,cpu:01")).getMessage().contains("twice"));
    }
}
