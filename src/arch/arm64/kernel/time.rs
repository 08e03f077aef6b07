//! Bringing up the tick (Linux: `arch/arm64/kernel/time.c`, `time_init`).

/// Start the timers the device tree describes (Linux's `time_init` → `timer_probe`):
/// whichever drivers declared a match for them (`TIMER_OF_DECLARE!`); the Arm generic timer
/// starts the tick.
pub fn time_init() {
    crate::drivers::clocksource::timer_probe();
}
