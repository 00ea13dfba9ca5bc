//! Large answers are worked on off the threads that serve requests.
//!
//! Parsing and flattening an upstream answer is CPU work proportional to its
//! size: a 16 MiB state takes a thread for a few hundred milliseconds. Done
//! on a worker thread, it holds up every other connection that worker
//! serves, so one tenant asking for large answers would slow every tenant
//! (with one worker thread, `--worker-threads 1`, all of them). A tool call
//! runs in [`scope`]; once it has read an answer of [`LARGE_ANSWER_BYTES`]
//! or more ([`note_answer`]), the rest of the call is polled inside
//! `tokio::task::block_in_place`, which hands the worker's other tasks to
//! another thread first. Small answers, nearly every call, pay one check of
//! a task-local flag.

use std::{
    cell::Cell,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::runtime::{Handle, RuntimeFlavor};

/// From this size on, an answer's processing leaves the worker threads:
/// about a millisecond of parsing and flattening, against the tens of
/// microseconds a hand-off costs.
pub const LARGE_ANSWER_BYTES: usize = 256 * 1024;

tokio::task_local! {
    static LARGE: Cell<bool>;
}

/// `call`, whose polls after it read a large answer run off the worker
/// threads. (Not an `async fn`: its state would keep `call` twice.)
pub fn scope<F: Future>(call: F) -> impl Future<Output = F::Output> {
    LARGE.scope(Cell::new(false), Offloading { call })
}

pin_project_lite::pin_project! {
    struct Offloading<F> {
        #[pin]
        call: F,
    }
}

impl<F: Future> Future for Offloading<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let call = self.project().call;
        if LARGE.with(Cell::get) && can_block_in_place() { tokio::task::block_in_place(|| call.poll(cx)) } else { call.poll(cx) }
    }
}

/// Called with each answer's size once it is read: a large one makes the
/// rest of the call (its parsing first) leave the worker threads, from the
/// next poll on, so this yields once.
pub async fn note_answer(bytes: usize) {
    if bytes >= LARGE_ANSWER_BYTES && LARGE.try_with(|large| large.replace(true)) == Ok(false) {
        tokio::task::yield_now().await;
    }
}

/// `block_in_place` needs the multi-threaded runtime (the gateway's; a
/// test's runtime may have one thread of its own, where it would panic).
fn can_block_in_place() -> bool {
    Handle::try_current().is_ok_and(|handle| handle.runtime_flavor() == RuntimeFlavor::MultiThread)
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{
            Arc,
            atomic::{AtomicBool, Ordering},
        },
        time::Duration,
    };

    use super::*;

    /// A call that spends 300 ms of a thread after reading `answer` bytes,
    /// while a short timer runs on the only worker thread: whether the timer
    /// finished first.
    fn timer_finished_first(answer: usize) -> bool {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        runtime.block_on(async {
            let call_done = Arc::new(AtomicBool::new(false));
            let done = call_done.clone();
            let call = tokio::spawn(scope(async move {
                note_answer(answer).await;
                std::thread::sleep(Duration::from_millis(300)); // the parsing
                done.store(true, Ordering::SeqCst);
            }));
            let timer = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                !call_done.load(Ordering::SeqCst)
            });
            let first = timer.await.unwrap();
            call.await.unwrap();
            first
        })
    }

    #[test]
    fn a_large_answer_leaves_the_worker_to_the_other_calls() {
        assert!(timer_finished_first(LARGE_ANSWER_BYTES), "the worker was held while a large answer was worked on");
        // A small answer stays on the worker: no hand-off for the common call.
        assert!(!timer_finished_first(LARGE_ANSWER_BYTES - 1));
    }

    #[tokio::test]
    async fn a_runtime_of_one_thread_works_on_it_in_place() {
        // The current-thread runtime cannot block in place: no panic, the call runs.
        assert_eq!(
            scope(async {
                note_answer(LARGE_ANSWER_BYTES).await;
                7
            })
            .await,
            7
        );
        // Outside a scope nothing is noted.
        note_answer(LARGE_ANSWER_BYTES).await;
    }
}
