package io.jtensor.cli;

/**
 * One command-line flag: {@code --name VALUE} (or {@code --name=VALUE}), or a switch {@code --name} when
 * {@code metavar} is null. {@code defaultValue} is shown in the usage and used when the flag is absent.
 */
record Flag(String name, String metavar, String defaultValue, String help) {
    static Flag value(String name, String metavar, String defaultValue, String help) { return new Flag(name, metavar, defaultValue, help); }

    static Flag toggle(String name, String help) { return new Flag(name, null, null, help); }

    boolean isSwitch() { return metavar == null; }

    /** "--name VALUE" or "--name". */
    String synopsis() { return "--" + name + (isSwitch() ? "" : " " + metavar); }
}
