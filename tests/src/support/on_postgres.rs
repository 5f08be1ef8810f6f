//! The suite's PostgreSQL run (`NACHBAR_TEST_ON_POSTGRES=1`, a stage of `scripts/test`): every
//! server a test starts without `--database` runs on a database of its own in one throwaway
//! cluster shared by the test process, so the same tests check a PostgreSQL-backed node. A
//! server started again on a data directory (after a SIGKILL, say) finds its database named
//! in that directory. The cluster is stopped and removed when the test process exits.

use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use super::cluster::PgCluster;

/// The environment variable that turns the PostgreSQL run on.
pub(crate) const VARIABLE: &str = "NACHBAR_TEST_ON_POSTGRES";

/// The file in a server's data directory that names its database.
const DATABASE_FILE: &str = "test-database-url";

static CLUSTER: OnceLock<PgCluster> = OnceLock::new();
static NEXT: AtomicU64 = AtomicU64::new(1);

/// Whether this test process runs its servers on PostgreSQL.
pub(crate) fn enabled() -> bool {
    std::env::var_os(VARIABLE).is_some_and(|v| !v.is_empty() && v != "0")
}

fn cluster() -> &'static PgCluster {
    CLUSTER.get_or_init(|| {
        let cluster = PgCluster::start()
            .unwrap_or_else(|e| panic!("{VARIABLE} is set, but PostgreSQL does not start: {e}"));
        // A static is never dropped: a watcher stops and removes the cluster after us.
        cluster
            .stop_after(std::process::id())
            .expect("the cluster's watcher starts");
        cluster
    })
}

/// The database of the server whose data directory is `data`: the one named there, or a new
/// one (then named there).
pub(crate) fn database_for(data: &Path) -> String {
    let named = data.join(DATABASE_FILE);
    if let Ok(url) = std::fs::read_to_string(&named) {
        return url;
    }
    let name = format!("e2e_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let url = cluster().create_database(&name).expect("createdb");
    std::fs::write(&named, &url).expect("naming the database in the data directory");
    url
}
