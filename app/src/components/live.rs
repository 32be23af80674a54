use leptos::prelude::*;

/// A counter that goes up every `millis` in the browser (never on the
/// server), for screens that refresh themselves. Stops with its owner.
pub fn use_tick(millis: u64) -> ReadSignal<u64> {
    let (tick, set_tick) = signal(0u64);
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || set_tick.update(|t| *t += 1),
            std::time::Duration::from_millis(millis),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    tick
}
