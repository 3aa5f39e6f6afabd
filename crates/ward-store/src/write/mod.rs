//! The write path: what a batch of write ops changes, decided before touching the tables.
//!
//! Changes are grouped per aggregate. Each aggregate is a module here that owns its change
//! type, the keys of the rows it reads ([`Touched`]), its part of the [`Snapshot`], its rows to
//! insert ([`Inserts`]), its other steps ([`Step`]) and its planning. The aggregates are
//! registered once, in [`for_each_aggregate!`](crate::for_each_aggregate); that list generates
//! [`Change`], the per-aggregate parts of [`Touched`], [`Snapshot`], [`Inserts`] and [`Step`],
//! and the dispatch below. Each backend expands the same list into its own dispatch, which
//! calls a file per aggregate: a registered aggregate without a backend file does not compile.
//!
//! Inside the write transaction, with the writer lock held, the backend reads the rows the
//! batch touches ([`touched`]) into a [`Snapshot`]; [`plan`] then decides every op's outcome
//! against it, updating it as ops apply (so later ops see earlier ones), and returns the
//! changes as [`Step`]s to apply in order. Consecutive inserts are gathered into one
//! [`Inserts`] step, so a batch of new subjects becomes a few multi-row statements.
//!
//! Backend-neutral: both backends plan their batches with it.
//!
//! # Adding an aggregate
//!
//! 1. `ward-store/src/write/<aggregate>.rs`: its change type (documenting each change's
//!    precondition and outcome), `Keys`, `Snap`, `Inserts<'a>` and `Step<'a>` (type aliases
//!    to `()`, [`NoInserts`] or [`NoStep`] where it has none), `touch` and `plan`.
//! 2. One line in [`for_each_aggregate!`](crate::for_each_aggregate):
//!    `<aggregate>: <Variant>(<ChangeType>)`.
//! 3. `ward-store-sqlite/src/<aggregate>.rs` and `ward-store-postgres/src/<aggregate>.rs`:
//!    `snapshot`, `insert` and `apply` for that backend (the module is declared from the
//!    list), and its reads.
//! 4. Its tables: a migration in each backend's `migrations/`.
//! 5. `ward-store/src/conformance/<aggregate>.rs` and its line in
//!    [`conformance_list!`](crate::conformance_list) (with the `conformance` feature).
//!
//! An aggregate with reads of its own also gets a read trait, added to [`Store`](crate::Store)'s
//! supertraits in `lib.rs`.

use crate::{OpOutcome, WriteOp};

/// Lists every aggregate of the write path, in the order their snapshots are read and their
/// inserts applied (subjects first: the other tables refer to them), and passes the list to the
/// macro `$m`. Each entry is `module: Variant(ChangeType)`: the module (in
/// `ward_store::write` and in each backend), the [`Change`](crate::Change) variant and the
/// aggregate's change type. Adding an aggregate is one line here.
#[macro_export]
macro_rules! for_each_aggregate {
    ($m:ident) => {
        $m! {
            subjects: Subject(SubjectChange),
            consents: Consent(ConsentChange),
            subject_events: SubjectEvent(SubjectEventChange),
            bases: Basis(BasisChange),
            keys: Key(KeyChange),
            api_keys: ApiKey(ApiKeyChange),
            policies: Policy(PolicyVersionChange),
            visitors: Visitor(VisitorChange),
            idempotency: Idempotency(IdempotencyChange),
            acts: Act(ActChange),
            blocks: Block(BlockChange),
            verifications: Verification(VerificationChange),
            requests: Request(RequestChange),
            outbox: Outbox(OutboxChange),
            downloads: Download(DownloadChange),
            unique: Unique(Guarded),
        }
    };
}

/// Generates the write path's types and dispatch from the list of aggregates.
macro_rules! write_path {
    ($($name:ident: $Variant:ident($Change:ident)),* $(,)?) => {
        $(pub mod $name;)*

        /// The change types, re-exported at the crate root.
        pub mod changes {
            pub use super::Change;
            pub use super::idempotency::Claimed;
            pub use super::unique::UniqueGuard;
            $(pub use super::$name::$Change;)*
        }

        /// What a [`WriteOp`] changes, with its precondition: nothing but its journal entries,
        /// or one aggregate's change.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Change {
            /// Nothing but the journal entries (e.g. a read). Always `Done`.
            JournalOnly,
            /// A change made under an idempotency key (see [`idempotency::Claimed`]).
            Claimed(Box<idempotency::Claimed>),
            $($Variant($name::$Change),)*
        }

        $(
            impl From<$name::$Change> for Change {
                fn from(c: $name::$Change) -> Self {
                    Change::$Variant(c)
                }
            }
        )*

        /// The keys of the rows a batch reads, per aggregate, deduplicated and sorted (a
        /// stable lock order).
        #[derive(Debug, Default)]
        pub struct Touched {
            $(pub $name: $name::Keys,)*
        }

        /// The touched rows that exist, per aggregate. A key that is absent does not exist.
        #[derive(Debug, Default)]
        pub struct Snapshot {
            $(pub $name: $name::Snap,)*
        }

        /// Rows to insert, per aggregate, applied in the order of the aggregates.
        #[derive(Debug, Default)]
        pub struct Inserts<'a> {
            $(pub $name: $name::Inserts<'a>,)*
        }

        impl Inserts<'_> {
            pub fn is_empty(&self) -> bool {
                true $(&& self.$name.is_empty())*
            }
        }

        /// One step of applying a batch. The inserts are boxed: every aggregate adds to them,
        /// and the other steps are small.
        #[derive(Debug)]
        // A batch has a handful of steps: their size does not matter, boxing would.
        #[allow(clippy::large_enum_variant)]
        pub enum Step<'a> {
            Insert(Box<Inserts<'a>>),
            $($Variant($name::Step<'a>),)*
        }

        /// The rows a batch reads.
        pub fn touched(ops: &[WriteOp]) -> Touched {
            let mut t = Touched::default();
            for op in ops {
                touch_one(&op.change, &mut t);
            }
            t
        }

        fn touch_one(change: &Change, t: &mut Touched) {
            match change {
                Change::JournalOnly => {}
                Change::Claimed(c) => {
                    idempotency::touch_claim(&c.claim, t);
                    touch_one(&c.change, t);
                }
                $(Change::$Variant(c) => $name::touch(c, t),)*
            }
        }

        fn plan_one<'a>(change: &'a Change, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
            match change {
                Change::JournalOnly => OpOutcome::Done,
                Change::Claimed(c) => {
                    if idempotency::held(&c.claim, snap) {
                        return OpOutcome::KeyInUse;
                    }
                    let outcome = plan_one(&c.change, snap, p);
                    if outcome == OpOutcome::Done {
                        idempotency::claim(&c.claim, snap, p);
                    }
                    outcome
                }
                $(Change::$Variant(c) => $name::plan(c, snap, p),)*
            }
        }
    };
}

crate::for_each_aggregate!(write_path);

/// The [`Inserts`] of an aggregate that inserts no rows of its own.
#[derive(Debug, Default)]
pub struct NoInserts;

impl NoInserts {
    pub fn is_empty(&self) -> bool {
        true
    }
}

/// The [`Step`] of an aggregate without steps of its own: no value of it exists.
#[derive(Debug)]
pub enum NoStep {}

impl NoStep {
    /// Whatever is asked of a value that cannot exist.
    pub fn unreachable<T>(&self) -> T {
        match *self {}
    }
}

/// Gathers the steps of a batch: inserts accumulate until another step comes.
#[derive(Debug, Default)]
pub struct Planner<'a> {
    steps: Vec<Step<'a>>,
    /// The inserts since the last other step.
    pub inserts: Inserts<'a>,
}

impl<'a> Planner<'a> {
    /// Appends a step after the inserts gathered so far.
    pub fn push(&mut self, step: Step<'a>) {
        if !self.inserts.is_empty() {
            self.steps
                .push(Step::Insert(Box::new(std::mem::take(&mut self.inserts))));
        }
        self.steps.push(step);
    }

    fn finish(mut self) -> Vec<Step<'a>> {
        if !self.inserts.is_empty() {
            self.steps.push(Step::Insert(Box::new(self.inserts)));
        }
        self.steps
    }
}

/// Decides each op's outcome against `snap` (updating it) and lists the steps to apply.
pub fn plan<'a>(ops: &'a [WriteOp], snap: &mut Snapshot) -> (Vec<OpOutcome>, Vec<Step<'a>>) {
    let mut p = Planner::default();
    let outcomes = ops.iter().map(|op| plan_one(&op.change, snap, &mut p)).collect();
    (outcomes, p.finish())
}

/// Joins identifiers (field names, purposes) into the stored comma-separated form.
/// `None` if one cannot be stored that way (empty, or containing a comma).
pub fn join_names(names: &[String]) -> Option<String> {
    if names.iter().any(|n| n.is_empty() || n.contains(',')) {
        return None;
    }
    Some(names.join(","))
}

/// The inverse of [`join_names`].
pub fn split_names(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split(',').map(str::to_owned).collect()
    }
}

/// Row counts for multi-row statements: full chunks of `max`, then the remainder as powers
/// of two, so only a few statement shapes exist (and stay in the prepared-statement cache).
#[allow(dead_code)] // PostgreSQL binds arrays instead.
pub fn chunk_sizes(mut n: usize, max: usize) -> Vec<usize> {
    let mut out = Vec::new();
    while n >= max {
        out.push(max);
        n -= max;
    }
    let mut bit = max.next_power_of_two();
    while n > 0 {
        if n >= bit {
            out.push(bit);
            n -= bit;
        }
        bit /= 2;
    }
    out
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_everything_with_few_shapes() {
        assert_eq!(chunk_sizes(0, 64), Vec::<usize>::new());
        assert_eq!(chunk_sizes(1, 64), [1]);
        assert_eq!(chunk_sizes(64, 64), [64]);
        assert_eq!(chunk_sizes(200, 64), [64, 64, 64, 8]);
        assert_eq!(chunk_sizes(63, 64), [32, 16, 8, 4, 2, 1]);
        for n in 0..1000 {
            let c = chunk_sizes(n, 64);
            assert_eq!(c.iter().sum::<usize>(), n);
            assert!(c.iter().all(|s| s.is_power_of_two() && *s <= 64));
        }
    }

    #[test]
    fn names_round_trip() {
        let names = vec!["email".to_owned(), "phone_2".to_owned()];
        assert_eq!(split_names(&join_names(&names).unwrap()), names);
        assert_eq!(join_names(&[]).unwrap(), "");
        assert!(split_names("").is_empty());
        assert_eq!(join_names(&["a,b".to_owned()]), None);
        assert_eq!(join_names(&[String::new()]), None);
    }
}
