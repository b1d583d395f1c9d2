//! Who a user is, as Amplitude's User Look-Up shows it: the user id first, then the
//! Amplitude id(s) and device id(s) seen on the user's events; and finding users by any of
//! those ids, whatever kind of key the user has.
//!
//! A user's key is one id (§2: its `amplitude_id`, else its `user_id`, else its device),
//! but a support ticket names whichever id the customer knows. Every view (the users
//! pane, titles, the detail view, the report and the query API) shows [`Identity::label`]
//! and looks users up with [`Analysis::find_users`], so they agree.

use rustc_hash::FxHashSet;

use super::{Analysis, KeyKind};
use crate::event::{EventRec, IdTable, Sym};
use crate::fmt::sanitize;
use crate::index::UserIx;
use crate::store::EventStore;

/// The ids seen on a user's events, each list in the user's event order, without repeats.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// `user_id`s.
    pub user_ids: Vec<Sym>,
    /// `amplitude_id`s.
    pub amplitude_ids: Vec<Sym>,
    /// `device_id`s.
    pub device_ids: Vec<Sym>,
}

/// Which id of a user a lookup matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum IdField {
    /// Its `user_id`.
    UserId,
    /// Its `amplitude_id`.
    AmplitudeId,
    /// One of its devices.
    DeviceId,
}

impl IdField {
    /// How a message names the field.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            IdField::UserId => "user id",
            IdField::AmplitudeId => "Amplitude id",
            IdField::DeviceId => "device id",
        }
    }
}

/// Lists this long are searched through an index rather than one by one: a placeholder
/// user id shared by many devices (`"undefined"`, `"0"`) gives one user 100,000 device
/// ids, and a search along the list for each event took the session pass from a fraction
/// of a second to minutes.
const INDEXED_FROM: usize = 16;

/// Appends `sym` to `list` unless it is there or none; `index` holds the list's ids once
/// the list is [`INDEXED_FROM`] long.
#[inline]
fn push_new(list: &mut Vec<Sym>, index: &mut FxHashSet<Sym>, sym: Sym) {
    if !sym.is_some() {
        return;
    }
    if list.len() < INDEXED_FROM {
        if !list.contains(&sym) {
            list.push(sym);
        }
    } else {
        push_indexed(list, index, sym);
    }
}

/// [`push_new`] on a long list (rare: kept out of the session pass's loop).
#[cold]
#[inline(never)]
fn push_indexed(list: &mut Vec<Sym>, index: &mut FxHashSet<Sym>, sym: Sym) {
    if index.is_empty() {
        index.extend(list.iter().copied());
    }
    if index.insert(sym) {
        list.push(sym);
    }
}

/// A user's [`Identity`] while the session pass walks its events, with the indexes of
/// its long lists.
#[derive(Debug, Default)]
pub(super) struct IdentityBuilder {
    identity: Identity,
    /// Indexes of the user, Amplitude and device id lists once they are long.
    indexes: [FxHashSet<Sym>; 3],
    /// The number of the last ids taken in ([`EventRec::ids`]; 0, no ids, before the
    /// first): a user's events nearly all carry the same ones.
    last: u32,
}

impl IdentityBuilder {
    /// Forgets every id, keeping the room.
    pub(super) fn clear(&mut self) {
        self.identity.clear();
        self.last = 0;
        // Most users never fill an index: nothing to clear.
        for index in self.indexes.iter_mut().filter(|i| !i.is_empty()) {
            index.clear();
        }
    }

    /// Takes in the ids of the user's next event, `e` of the store whose ids are `table`.
    #[inline]
    pub(super) fn add(&mut self, e: &EventRec, table: &IdTable) {
        if e.ids == self.last {
            return;
        }
        self.last = e.ids;
        let ids = table.get(e.ids);
        let Identity {
            user_ids,
            amplitude_ids,
            device_ids,
        } = &mut self.identity;
        let [users, amplitudes, devices] = &mut self.indexes;
        push_new(user_ids, users, ids.user_id);
        push_new(amplitude_ids, amplitudes, ids.amplitude_id);
        push_new(device_ids, devices, ids.device_id);
    }

    /// The ids taken in so far.
    pub(super) fn identity(&self) -> &Identity {
        &self.identity
    }
}

impl Identity {
    /// Forgets every id, keeping the room.
    pub(super) fn clear(&mut self) {
        self.user_ids.clear();
        self.amplitude_ids.clear();
        self.device_ids.clear();
    }

    /// Which of these ids is `sym`, the user id first.
    #[must_use]
    pub fn field_of(&self, sym: Sym) -> Option<IdField> {
        if self.user_ids.contains(&sym) {
            Some(IdField::UserId)
        } else if self.amplitude_ids.contains(&sym) {
            Some(IdField::AmplitudeId)
        } else if self.device_ids.contains(&sym) {
            Some(IdField::DeviceId)
        } else {
            None
        }
    }

    /// One line, the user id first (see [`IdentityRef::label`]).
    #[must_use]
    pub fn label(&self, store: &EventStore) -> String {
        self.borrowed().label(store)
    }

    /// The same ids, borrowed.
    #[must_use]
    pub fn borrowed(&self) -> IdentityRef<'_> {
        IdentityRef {
            user_ids: &self.user_ids,
            amplitude_ids: &self.amplitude_ids,
            device_ids: &self.device_ids,
        }
    }
}

/// Every user's [`Identity`], packed into one array of symbols: the session pass
/// ([`super::sessions`]) collects them while it walks each user's events anyway, so the
/// report and the views do not walk (and miss the cache on) every event again.
#[derive(Clone, Debug, Default)]
pub struct Identities {
    /// Per user in turn: its user ids, Amplitude ids, then device ids.
    syms: Vec<Sym>,
    /// Per user: where its user ids, Amplitude ids and device ids start in `syms`, and
    /// where its ids end.
    bounds: Vec<[u32; 4]>,
}

impl Identities {
    /// Appends the next user's ids.
    pub(super) fn push(&mut self, id: &Identity) {
        // Fewer than 2^32 ids: each is one of fewer than 2^32 events' (`crate::index`).
        let at = |syms: &Vec<Sym>| u32::try_from(syms.len()).unwrap_or(u32::MAX);
        let start = at(&self.syms);
        self.syms.extend_from_slice(&id.user_ids);
        let amplitude = at(&self.syms);
        self.syms.extend_from_slice(&id.amplitude_ids);
        let device = at(&self.syms);
        self.syms.extend_from_slice(&id.device_ids);
        self.bounds.push([start, amplitude, device, at(&self.syms)]);
    }

    /// Appends the users of `more` after these.
    pub(super) fn append(&mut self, more: &Identities) {
        let base = u32::try_from(self.syms.len()).unwrap_or(u32::MAX);
        self.syms.extend_from_slice(&more.syms);
        self.bounds.extend(
            more.bounds
                .iter()
                .map(|b| b.map(|at| at.saturating_add(base))),
        );
    }

    /// User `u`'s identity, as packed.
    fn get(&self, u: UserIx) -> IdentityRef<'_> {
        let Some(&[a, b, c, d]) = self.bounds.get(u.idx()) else {
            return IdentityRef::default();
        };
        let list = |from: u32, to: u32| &self.syms[from as usize..to as usize];
        IdentityRef {
            user_ids: list(a, b),
            amplitude_ids: list(b, c),
            device_ids: list(c, d),
        }
    }
}

/// An [`Identity`] borrowed from the analysis, for a caller that only reads it (the report
/// writes 40,000 of them without allocating).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IdentityRef<'a> {
    /// `user_id`s.
    pub user_ids: &'a [Sym],
    /// `amplitude_id`s.
    pub amplitude_ids: &'a [Sym],
    /// `device_id`s.
    pub device_ids: &'a [Sym],
}

impl IdentityRef<'_> {
    /// One line, the user id first: `ana.berg@example.org · amp 1238554004088 · 2 devices`
    /// (one device is named: `· device d-1`); without a user id, `amp 1238554004088 ·
    /// device d-1` or `device d-1`. Escaped for the terminal.
    #[must_use]
    pub fn label(self, store: &EventStore) -> String {
        let s = |sym: Sym| sanitize(store.strings.get(sym)).into_owned();
        let mut parts = Vec::new();
        match self.user_ids {
            [] => {}
            [one] => parts.push(s(*one)),
            [first, rest @ ..] => parts.push(format!("{} (+{} user ids)", s(*first), rest.len())),
        }
        match self.amplitude_ids {
            [] => {}
            [one] => parts.push(format!("amp {}", s(*one))),
            many => parts.push(format!("{} Amplitude ids", many.len())),
        }
        match self.device_ids {
            [] => {}
            [one] => parts.push(format!("device {}", s(*one))),
            many => parts.push(format!("{} devices", many.len())),
        }
        parts.join(" · ")
    }

    /// The same ids, owned.
    #[must_use]
    pub fn to_identity(self) -> Identity {
        Identity {
            user_ids: self.user_ids.to_vec(),
            amplitude_ids: self.amplitude_ids.to_vec(),
            device_ids: self.device_ids.to_vec(),
        }
    }
}

impl Analysis {
    /// The ids seen on user `u`'s events.
    #[must_use]
    pub fn identity(&self, u: UserIx) -> Identity {
        self.identity_ref(u).to_identity()
    }

    /// [`Analysis::identity`], borrowed.
    #[must_use]
    pub fn identity_ref(&self, u: UserIx) -> IdentityRef<'_> {
        let mut id = self.identities.get(u);
        // A device-keyed user whose events carry no device id (cannot happen through §2,
        // which keys by the device) still names its key.
        let user = &self.users[u];
        if user.key.kind == KeyKind::Device && id.device_ids.is_empty() {
            id.device_ids = std::slice::from_ref(&user.key.id);
        }
        id
    }

    /// The users that `text` names: by user id, Amplitude id or device id, whatever kind
    /// of key each user has (and by the key itself). A device shared by several users
    /// finds all of them. Each with the field that matched, the user id first; in user
    /// order.
    #[must_use]
    pub fn find_users(&self, store: &EventStore, text: &str) -> Vec<(UserIx, IdField)> {
        let Some(sym) = store.strings.lookup(text) else {
            return Vec::new();
        };
        let events = store.events();
        let mut out = Vec::new();
        for u in self.user_ixs() {
            let key = self.users[u].key;
            let by_key = (key.id == sym).then_some(match key.kind {
                KeyKind::UserId => IdField::UserId,
                KeyKind::AmplitudeId => IdField::AmplitudeId,
                KeyKind::Device => IdField::DeviceId,
            });
            let mut best = by_key;
            for &e in self.user_events(u) {
                if best == Some(IdField::UserId) {
                    break;
                }
                let ev = store.ids(&events[e]);
                let field = if ev.user_id == sym {
                    IdField::UserId
                } else if ev.amplitude_id == sym {
                    IdField::AmplitudeId
                } else if ev.device_id == sym {
                    IdField::DeviceId
                } else {
                    continue;
                };
                best = Some(best.map_or(field, |b| b.min(field)));
            }
            if let Some(field) = best {
                out.push((u, field));
            }
        }
        out
    }
}
