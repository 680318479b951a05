//! Hands out a fixed set of slots (the pool's readers) in the order they were
//! asked for. With more requests than readers, each waits its turn: a freed
//! reader goes to the longest waiter, never to a newcomer that raced it. With
//! mutexes alone, a few requests lost that race again and again and waited
//! several times the median (the case file's 99th percentile).

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

pub(crate) struct Turns {
    state: Mutex<State>,
}

struct State {
    free: Vec<usize>,
    waiting: VecDeque<Arc<Waiter>>,
}

#[derive(Default)]
struct Waiter {
    given: Mutex<Option<usize>>,
    woken: Condvar,
}

/// A slot taken; given back (to the next waiter first) when dropped.
pub(crate) struct Turn<'a> {
    turns: &'a Turns,
    pub(crate) slot: usize,
}

fn held<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Turns {
    pub(crate) fn new(slots: usize) -> Turns {
        Turns {
            state: Mutex::new(State {
                free: (0..slots).rev().collect(),
                waiting: VecDeque::new(),
            }),
        }
    }

    /// The next free slot, waiting behind everyone who asked before.
    pub(crate) fn take(&self) -> Turn<'_> {
        let waiter = {
            let mut state = held(&self.state);
            // A slot is only free while nobody waits: giving back hands it on.
            if let Some(slot) = state.free.pop() {
                return Turn { turns: self, slot };
            }
            let waiter = Arc::new(Waiter::default());
            state.waiting.push_back(waiter.clone());
            waiter
        };
        let mut given = held(&waiter.given);
        loop {
            if let Some(slot) = *given {
                return Turn { turns: self, slot };
            }
            given = waiter
                .woken
                .wait(given)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut state = held(&self.turns.state);
        match state.waiting.pop_front() {
            Some(waiter) => {
                *held(&waiter.given) = Some(self.slot);
                waiter.woken.notify_one();
            }
            None => state.free.push(self.slot),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_freed_slot_goes_to_the_longest_waiter() {
        let turns = Arc::new(Turns::new(1));
        let first = turns.take();
        let (served, order) = mpsc::channel();
        let mut waiting = Vec::new();
        for number in 0..4 {
            let (asking, served) = (turns.clone(), served.clone());
            waiting.push(std::thread::spawn(move || {
                let turn = asking.take();
                served.send(number).expect("send");
                std::thread::sleep(Duration::from_millis(5));
                drop(turn);
            }));
            // Each asks only once the one before is queued.
            while held(&turns.state).waiting.len() < number + 1 {
                std::thread::yield_now();
            }
        }
        drop(first);
        for thread in waiting {
            thread.join().expect("join");
        }
        assert_eq!(order.try_iter().collect::<Vec<_>>(), vec![0, 1, 2, 3]);
        assert_eq!(held(&turns.state).free, vec![0]);
    }

    #[test]
    fn slots_are_never_handed_out_twice_at_once() {
        let turns = Arc::new(Turns::new(3));
        let inside: Arc<Vec<Mutex<bool>>> = Arc::new((0..3).map(|_| Mutex::new(false)).collect());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (turns, inside) = (turns.clone(), inside.clone());
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let turn = turns.take();
                        let mut busy = inside[turn.slot].try_lock().expect("slot given twice");
                        assert!(!*busy);
                        *busy = true;
                        std::thread::yield_now();
                        *busy = false;
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("join");
        }
        let mut free = held(&turns.state).free.clone();
        free.sort();
        assert_eq!(free, vec![0, 1, 2]);
    }
}
