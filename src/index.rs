//! Typed indices: what a `u32` index points into, checked by the compiler.
//!
//! The store and the session model hand indices to each other and to the views: an
//! event's place in the store ([`EventIx`]), a place in the model's per-user order
//! ([`Pos`]), a user ([`UserIx`]), a recorded session ([`SessionIx`]) and a source
//! ([`SourceIx`]). Each is a
//! `#[repr(transparent)]` `u32` (as compact as the bare number, so arrays of them cost the
//! same), indexes slices and vectors directly (`events[e]`, `a.sessions[s]`), and turns into
//! a `usize` with [`EventIx::idx`] where arithmetic needs one. A range of them reads a slice
//! through [`IxRange`].
//!
//! Indices are made from `usize` with `from_usize`, which saturates at `u32::MAX`: stores
//! hold fewer than 2^32 events, so that value is never a real index (and indexing with it
//! panics, as an out-of-range index does).

use std::ops::{Index, IndexMut, Range};

/// Shared by the index types: their `u32` and `usize` forms.
pub trait Ix: Copy + Ord {
    /// The index from its `u32` form.
    fn from_raw(raw: u32) -> Self;
    /// The `u32` form.
    fn raw(self) -> u32;
    /// The `usize` form, to index with.
    #[must_use]
    fn idx(self) -> usize {
        self.raw() as usize
    }
}

/// A range of typed indices as `usize`s, its length, and its indices one by one.
pub trait IxRange<I: Ix> {
    /// The range as `usize`s, to slice with.
    fn idx(&self) -> Range<usize>;
    /// How many indices it holds.
    fn len(&self) -> usize;
    /// Whether it holds none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Its indices, in order.
    fn iter_ix(&self) -> impl DoubleEndedIterator<Item = I> + ExactSizeIterator + use<Self, I>;
}

impl<I: Ix> IxRange<I> for Range<I> {
    fn idx(&self) -> Range<usize> {
        self.start.idx()..self.end.idx()
    }

    fn len(&self) -> usize {
        self.end.raw().saturating_sub(self.start.raw()) as usize
    }

    fn iter_ix(&self) -> impl DoubleEndedIterator<Item = I> + ExactSizeIterator + use<I> {
        (self.start.raw()..self.end.raw()).map(I::from_raw)
    }
}

macro_rules! index_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(transparent)]
        pub struct $name(u32);

        impl $name {
            /// The index from its `u32` form.
            #[must_use]
            pub const fn new(raw: u32) -> Self {
                Self(raw)
            }

            /// The index from a `usize`, saturating at `u32::MAX` (see the module docs).
            #[must_use]
            pub fn from_usize(i: usize) -> Self {
                Self(u32::try_from(i).unwrap_or(u32::MAX))
            }

            /// The `u32` form.
            #[must_use]
            pub const fn raw(self) -> u32 {
                self.0
            }

            /// The `usize` form, to index with.
            #[must_use]
            pub const fn idx(self) -> usize {
                self.0 as usize
            }

            /// How far this index is past `start` (which must not be after it).
            #[must_use]
            pub const fn offset_from(self, start: Self) -> usize {
                (self.0 - start.0) as usize
            }
        }

        impl Ix for $name {
            fn from_raw(raw: u32) -> Self {
                Self(raw)
            }

            fn raw(self) -> u32 {
                self.0
            }
        }

        impl<T> Index<$name> for [T] {
            type Output = T;

            #[inline]
            fn index(&self, i: $name) -> &T {
                &self[i.0 as usize]
            }
        }

        impl<T> IndexMut<$name> for [T] {
            #[inline]
            fn index_mut(&mut self, i: $name) -> &mut T {
                &mut self[i.0 as usize]
            }
        }

        impl<T> Index<$name> for Vec<T> {
            type Output = T;

            #[inline]
            fn index(&self, i: $name) -> &T {
                &self[i.0 as usize]
            }
        }

        impl<T> IndexMut<$name> for Vec<T> {
            #[inline]
            fn index_mut(&mut self, i: $name) -> &mut T {
                &mut self[i.0 as usize]
            }
        }
    };
}

index_type! {
    /// An event's index in the store ([`crate::store::EventStore::events`]): its input order.
    EventIx
}

index_type! {
    /// A position in the model's per-user order ([`crate::analysis::Analysis::order`]):
    /// each user's events are contiguous there, in (time, input order).
    Pos
}

index_type! {
    /// A user's index in [`crate::analysis::Analysis::users`].
    UserIx
}

index_type! {
    /// A recorded session's index in [`crate::analysis::Analysis::sessions`].
    SessionIx
}

index_type! {
    /// A source's index in [`crate::store::EventStore::sources`] (a file, stdin, a followed
    /// file, a URL, an endpoint's capture).
    SourceIx
}

impl SessionIx {
    /// "No session": what [`crate::analysis::Analysis::pos_session`] holds for an event
    /// out of session.
    pub const NONE: SessionIx = SessionIx(u32::MAX);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_as_small_as_their_number() {
        assert_eq!(std::mem::size_of::<EventIx>(), 4);
        assert_eq!(std::mem::size_of::<Range<Pos>>(), 8);
    }

    #[test]
    fn indices_index_and_slice() {
        let v: Vec<i32> = (1..=4).map(|n| n * 10).collect();
        assert_eq!(v[Pos::new(2)], 30);
        assert_eq!(v[..][UserIx::from_usize(1)], 20);
        let r = Pos::new(1)..Pos::new(3);
        assert_eq!(&v[r.idx()], &[20, 30]);
        assert_eq!(r.len(), 2);
        assert_eq!(r.iter_ix().collect::<Vec<_>>(), [Pos::new(1), Pos::new(2)]);
        assert_eq!(EventIx::from_usize(usize::MAX).raw(), u32::MAX);
    }
}
