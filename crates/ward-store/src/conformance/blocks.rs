//! Conformance: blocks on a subject's data are placed on an active subject, listed oldest
//! first, and lifted once.

use super::*;
use crate::{BlockChange, BlockRecord};
use ward_core::BlockId;

fn block(sid: SubjectId, categories: &[&str], when: OffsetDateTime) -> BlockRecord {
    BlockRecord {
        id: BlockId::random(),
        subject: sid,
        categories: categories.iter().map(|c| (*c).to_owned()).collect(),
        reason: "inaccuracy_claimed".to_owned(),
        at: when,
        lifted_at: None,
        erase_after: categories.is_empty(),
    }
}

fn change(c: BlockChange) -> WriteOp {
    op(Change::Block(c), vec![draft(AdminEvent::SubjectBlocked, None)])
}

pub(super) async fn blocks_are_placed_listed_and_lifted_once(store: Arc<dyn Store>) {
    let sid = id(1);
    let whole = block(sid, &[], at(1));
    assert_eq!(
        write_one(&store, change(BlockChange::Place(whole.clone()))).await,
        OpOutcome::NotFound
    );
    create(&store, new_subject(sid, &[])).await;
    let contact = block(sid, &["contact"], at(2));
    let out = write(
        &store,
        vec![
            change(BlockChange::Place(whole.clone())),
            change(BlockChange::Place(contact.clone())),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::Done]);
    assert_eq!(
        ok(store.find_blocks(sid).await, "find_blocks"),
        [whole.clone(), contact.clone()]
    );
    let lift = |b: &BlockRecord, s: SubjectId| {
        change(BlockChange::Lift {
            subject: s,
            id: b.id,
            at: at(3),
        })
    };
    // Another subject's block, an unknown block: not found.
    assert_eq!(write_one(&store, lift(&whole, id(2))).await, OpOutcome::NotFound);
    assert_eq!(
        write_one(&store, lift(&block(sid, &[], at(1)), sid)).await,
        OpOutcome::NotFound
    );
    // Lifted once, in one batch the second lift is refused.
    let out = write(&store, vec![lift(&whole, sid), lift(&whole, sid)]).await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::NotFound]);
    assert_eq!(write_one(&store, lift(&whole, sid)).await, OpOutcome::NotFound);
    let blocks = ok(store.find_blocks(sid).await, "find_blocks");
    assert_eq!(blocks[0].lifted_at, Some(at(3)));
    assert_eq!(blocks[1], contact);
    // An erased subject takes no new block.
    assert_eq!(erase(&store, sid, at(4)).await, OpOutcome::Done);
    assert_eq!(
        write_one(&store, change(BlockChange::Place(block(sid, &[], at(5))))).await,
        OpOutcome::Erased
    );
}
