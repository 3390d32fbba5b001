package io.jtensor.nn.parallel;

import io.jtensor.Device;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The checks every device list of this package passes: not empty, no nulls, no duplicates, one kind of device. */
final class DeviceList {
    private DeviceList() {}

    static List<Device> check(String op, List<Device> devices) {
        if (devices == null || devices.isEmpty()) {
            throw new IllegalArgumentException(op + ": expected at least one device, got " + (devices == null ? "null" : "an empty list"));
        }
        Set<Device> seen = new HashSet<>();
        for (int i = 0; i < devices.size(); i++) {
            Device d = devices.get(i);
            if (d == null) throw new IllegalArgumentException(op + ": device " + i + " of " + devices + " is null");
            if (!seen.add(d)) throw new IllegalArgumentException(op + ": expected distinct devices, got " + d + " twice in " + devices);
            if (d.type() != devices.get(0).type()) {
                throw new IllegalArgumentException(op + ": expected devices of one kind, got " + devices.get(0) + " and " + d + " in " + devices);
            }
        }
        return List.copyOf(devices);
    }
}
