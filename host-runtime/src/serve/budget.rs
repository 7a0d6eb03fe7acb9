//! The byte budget for request bodies held in memory, and the split of
//! classified requests into a small lane and a big lane.
//!
//! A classified request's body is read into memory, then copied a few
//! times (the extracted segments, the framed guest input, the guest's own
//! copy), so memory follows the bytes held, not the number of requests.
//! Every body is charged to `body_budget_bytes` before it is read (its
//! `content-length`, or frame by frame when it is chunked) until it has been
//! sent upstream; a body above `big_body_bytes` is *big* and is also
//! charged to `big_lane_budget_bytes`, a part of the budget. So big bodies
//! can never take the whole budget: small requests always have the rest.
//! Beyond either budget the request is answered 503 at once, nothing waits
//! for bytes.
//!
//! Big requests are classified in their own lane (`big_lane_slots` at
//! once), beside the `pool_size` slots of the small lane, so a small
//! request never queues behind a 300 ms classification of a 4 MB prompt.

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The budgets, shared by every request.
pub(crate) struct BodyBudget {
    all: Arc<Semaphore>,
    big: Arc<Semaphore>,
    all_bytes: usize,
    big_bytes: usize,
    big_body: usize,
}

/// Which budget a body did not fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Over {
    /// `body_budget_bytes`.
    All { limit: usize },
    /// `big_lane_budget_bytes`.
    BigLane { limit: usize },
}

/// The bytes one request holds; given back on drop.
pub(crate) struct Charge {
    all: Option<OwnedSemaphorePermit>,
    big: Option<OwnedSemaphorePermit>,
    bytes: usize,
}

impl BodyBudget {
    /// `all_bytes` in all, `big_bytes` of it for bodies above `big_body`.
    pub(crate) fn new(all_bytes: usize, big_bytes: usize, big_body: usize) -> BodyBudget {
        BodyBudget {
            all: Arc::new(Semaphore::new(all_bytes)),
            big: Arc::new(Semaphore::new(big_bytes)),
            all_bytes,
            big_bytes,
            big_body,
        }
    }

    /// An empty charge.
    pub(crate) fn start(&self) -> Charge {
        Charge { all: None, big: None, bytes: 0 }
    }

    /// Grows `charge` to `bytes` (never shrinks it), moving it to the big
    /// lane once `bytes` is above `big_body_bytes`. On `Err` the charge is
    /// as it was.
    pub(crate) fn grow(&self, charge: &mut Charge, bytes: usize) -> Result<(), Over> {
        if bytes <= charge.bytes {
            return Ok(());
        }
        let big_now = charge.big.is_some();
        let big_then = bytes > self.big_body;
        // Big-lane bytes first: a big body must not take small-lane room it cannot keep.
        let big_more = if big_now {
            bytes - charge.bytes
        } else if big_then {
            bytes
        } else {
            0
        };
        let big = if big_more > 0 {
            Some(take(&self.big, big_more).ok_or(Over::BigLane { limit: self.big_bytes })?)
        } else {
            None
        };
        let all = take(&self.all, bytes - charge.bytes).ok_or(Over::All { limit: self.all_bytes })?;
        merge(&mut charge.all, all);
        if let Some(b) = big {
            merge(&mut charge.big, b);
        }
        charge.bytes = bytes;
        Ok(())
    }

    /// Bytes held now: in all, and by big bodies.
    pub(crate) fn held(&self) -> (usize, usize) {
        (self.all_bytes - self.all.available_permits(), self.big_bytes - self.big.available_permits())
    }
}

impl Charge {
    /// Whether the body is big (charged to the big lane).
    pub(crate) fn is_big(&self) -> bool {
        self.big.is_some()
    }
}

/// `n` permits at once, or `None`: never waits. `n` above what a semaphore
/// can hold (no budget is that large) is `None` too.
fn take(s: &Arc<Semaphore>, n: usize) -> Option<OwnedSemaphorePermit> {
    let n = u32::try_from(n).ok()?;
    s.clone().try_acquire_many_owned(n).ok()
}

fn merge(into: &mut Option<OwnedSemaphorePermit>, more: OwnedSemaphorePermit) {
    match into {
        Some(p) => p.merge(more),
        None => *into = Some(more),
    }
}

/// A request body read into memory, with its charge: the charge is given
/// back when the upstream client has sent the body and dropped it (or the
/// request ended without forwarding it).
pub(crate) struct Held {
    data: Option<Bytes>,
    len: u64,
    _charge: Charge,
}

impl Held {
    pub(crate) fn new(data: Bytes, charge: Charge) -> Held {
        Held { len: data.len() as u64, data: Some(data), _charge: charge }
    }
}

impl hyper::body::Body for Held {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.data.take().filter(|d| !d.is_empty()).map(|d| Ok(Frame::data(d))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.as_ref().is_none_or(|d| d.is_empty())
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(if self.data.is_some() { self.len } else { 0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_big_body_takes_its_lane_and_the_budget_and_gives_both_back() {
        let b = BodyBudget::new(100, 40, 10);
        let mut small = b.start();
        b.grow(&mut small, 10).unwrap();
        assert!(!small.is_big());
        let mut big = b.start();
        b.grow(&mut big, 5).unwrap();
        b.grow(&mut big, 30).unwrap();
        assert!(big.is_big());
        assert_eq!(b.held(), (40, 30));
        let mut other = b.start();
        assert_eq!(b.grow(&mut other, 20), Err(Over::BigLane { limit: 40 }));
        assert_eq!(b.held(), (40, 30), "a refused charge takes nothing");
        drop(big);
        assert_eq!(b.held(), (10, 0));
        b.grow(&mut other, 40).unwrap();
        let mut smalls: Vec<Charge> = (0..5).map(|_| b.start()).collect();
        for c in &mut smalls {
            b.grow(c, 10).unwrap();
        }
        let mut one_more = b.start();
        assert_eq!(b.grow(&mut one_more, 10), Err(Over::All { limit: 100 }));
        drop((small, other, smalls));
        assert_eq!(b.held(), (0, 0));
    }
}
