//! The conformance suite: every call of the SDK and the data paths, against whichever Glance
//! the environment points at: the main cloud, cloud `local-b` (one store, no cache:
//! `OSRS_COMPAT_CLOUD=local-b`), or a release started by `cargo xtask cloud up --glance
//! <release>` (its `cloud env --glance <release>`).
//!
//! Each row is `ok`; or `unsupported (needs 2.N)` when the cloud does not list the version
//! the call needs and the SDK refused it before sending (checked, not skipped: a call that
//! goes through on such a cloud, or is refused on a cloud that offers it, fails the row); or
//! the failure. With `OSRS_COMPAT_REPORT=<file>` the rows are written there as JSON for
//! `cargo xtask compat`, which prints them as one table over every release.

#[path = "conformance/data.rs"]
mod data_rows;
#[path = "conformance/harness.rs"]
mod harness;
#[path = "conformance/metadef.rs"]
mod metadef_rows;
#[path = "conformance/more.rs"]
mod more_rows;

use harness::{Ctx, Table};

#[tokio::test]
async fn every_call_works_or_is_refused_where_the_release_lacks_it() {
    let ctx = Ctx::from_env().await;
    let mut t = Table::new(&ctx);
    data_rows::images(&ctx, &mut t).await;
    data_rows::transfers(&ctx, &mut t).await;
    data_rows::imports(&ctx, &mut t).await;
    more_rows::members_and_tasks(&ctx, &mut t).await;
    more_rows::schemas_and_info(&ctx, &mut t).await;
    more_rows::stores_cache_locations(&ctx, &mut t).await;
    more_rows::errors(&ctx, &mut t).await;
    metadef_rows::metadefs(&ctx, &mut t).await;
    t.finish();
}
