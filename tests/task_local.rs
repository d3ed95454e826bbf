//! task_local!: a value per future, across `.await`s, threads and both flavours.

mod util;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use util::watchdog;

ember::task_local! {
    static REQUEST: u64;
    /// A non-Copy value, read through `with`.
    pub static NAME: String;
}

per_flavor! {
    #[test]
    fn each_task_sees_its_own_value_across_awaits() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let tasks: Vec<_> = (0..64u64)
                .map(|i| {
                    ember::spawn(REQUEST.scope(i, async move {
                        for round in 0..10 {
                            assert_eq!(REQUEST.get(), i);
                            if round % 3 == 0 {
                                ember::time::sleep(Duration::from_millis(1)).await;
                            } else {
                                ember::task::yield_now().await;
                            }
                        }
                        REQUEST.get()
                    }))
                })
                .collect();
            for (i, task) in tasks.into_iter().enumerate() {
                assert_eq!(task.await.unwrap(), i as u64);
            }
        });
    }

    #[test]
    fn the_value_is_set_only_while_its_future_is_polled() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let leaks = Arc::new(AtomicUsize::new(0));
            // Tasks without a scope, interleaved with scoped ones on the same threads.
            let bystanders: Vec<_> = (0..16)
                .map(|_| {
                    let leaks = Arc::clone(&leaks);
                    ember::spawn(async move {
                        for _ in 0..20 {
                            if REQUEST.try_with(|_| ()).is_ok() {
                                leaks.fetch_add(1, Ordering::SeqCst);
                            }
                            ember::task::yield_now().await;
                        }
                    })
                })
                .collect();
            let scoped: Vec<_> = (0..16u64)
                .map(|i| {
                    ember::spawn(REQUEST.scope(i, async {
                        for _ in 0..20 {
                            ember::task::yield_now().await;
                        }
                    }))
                })
                .collect();
            for task in bystanders.into_iter().chain(scoped) {
                task.await.unwrap();
            }
            assert_eq!(leaks.load(Ordering::SeqCst), 0, "a value leaked to another task");
            // A task spawned from inside a scope does not inherit it.
            let inherited = REQUEST
                .scope(1, async { ember::spawn(async { REQUEST.try_with(|v| *v).ok() }).await })
                .await
                .unwrap();
            assert_eq!(inherited, None);
        });
    }

    #[test]
    fn scopes_nest_and_sync_scope_works_inside_tasks() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let task = ember::spawn(NAME.scope("outer".to_owned(), async {
                let inner = NAME
                    .scope("inner".to_owned(), async {
                        ember::task::yield_now().await;
                        NAME.with(|name| name.clone())
                    })
                    .await;
                let sync = NAME.sync_scope("sync".to_owned(), || NAME.with(|n| n.len()));
                ember::task::yield_now().await;
                (inner, sync, NAME.with(|name| name.clone()))
            }));
            let (inner, sync, outer) = task.await.unwrap();
            assert_eq!((inner.as_str(), sync, outer.as_str()), ("inner", 4, "outer"));
        });
    }

    #[test]
    fn the_block_on_future_can_be_scoped() {
        let _guard = watchdog(Duration::from_secs(10));
        let value = block_on(REQUEST.scope(42, async {
            ember::time::sleep(Duration::from_millis(1)).await;
            REQUEST.get()
        }));
        assert_eq!(value, 42);
    }
}

#[test]
fn outside_a_scope_try_with_fails_and_with_panics() {
    assert!(REQUEST.try_with(|v| *v).is_err());
    let err = std::panic::catch_unwind(|| REQUEST.get()).unwrap_err();
    let message = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(message.contains("outside its scope"), "{message}");
}
