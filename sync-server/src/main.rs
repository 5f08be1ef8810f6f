//! The nachbar sync server binary: `serve` (the default) and `admin` commands.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use nachbar_core::model::business_profile::SizeBand;
use nachbar_core::time::Timestamp;
use nachbar_server::access::roles;
use nachbar_server::config::{LogFormat, ServeConfig};
use nachbar_server::storage::Store;
use nachbar_server::storage::backend::{AccessStore, Storage};
use nachbar_server::storage::node::AdminStorage;
use nachbar_server::storage::web::CredentialsOutcome;
use nachbar_server::{admin, demo};

#[derive(Debug, Parser)]
#[command(name = "nachbar-server", version, about = "nachbar sync server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    serve: ServeConfig,
    /// Load the demo neighbourhood (kept when it exists) and print a token per person.
    #[arg(long, env = "NACHBAR_DEMO")]
    demo: bool,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the server (the default).
    Serve,
    /// Administration of the directory, tokens and data.
    #[command(subcommand)]
    Admin(Admin),
}

/// A role of a user in a scope (`grant`, `revoke-role`).
#[derive(Debug, clap::Args)]
struct RoleAssignment {
    /// The user id.
    #[arg(long)]
    user: String,
    /// The role.
    #[arg(long)]
    role: String,
    /// The scope.
    #[arg(long, default_value = "")]
    scope: String,
}

/// What `admin report` writes.
#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// An action plan's or an assessment's document id.
    #[arg(
        long,
        conflicts_with = "neighbourhood",
        required_unless_present = "neighbourhood"
    )]
    doc: Option<String>,
    /// A neighbourhood id (its summary for the chamber and funders).
    #[arg(long)]
    neighbourhood: Option<String>,
    /// Language: de or en.
    #[arg(long, default_value = "de", value_parser = ["de", "en"])]
    lang: String,
    /// Include each measure's status history (action plans).
    #[arg(long)]
    history: bool,
    /// Make the report as this user sees it (their access rules); default: the operator,
    /// who may read every document of the database.
    #[arg(long = "as")]
    as_user: Option<String>,
    /// Target file.
    #[arg(long)]
    to: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Admin {
    /// Publish the catalogue (release 1.0) as a document; prints its id.
    Init,
    /// Add a neighbourhood with its document; prints the neighbourhood id.
    AddNeighbourhood {
        /// Name.
        #[arg(long)]
        name: String,
        /// Location.
        #[arg(long, default_value = "")]
        location: String,
    },
    /// Add a member business with its profile document; prints the business id.
    AddBusiness {
        /// The neighbourhood id.
        #[arg(long)]
        neighbourhood: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// Trade.
        #[arg(long, default_value = "")]
        trade: String,
        /// Staff size band: 1-9, 10-49, 50-249, 250+.
        #[arg(long)]
        size: Option<String>,
    },
    /// A business leaves its neighbourhood: access ends, the neighbourhood document shows it.
    BusinessLeft {
        /// The business id.
        #[arg(long)]
        business: String,
    },
    /// Add a user, optionally with a role; prints the user id alone on stdout.
    AddUser {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Role: admin, coordinator, coach, owner, staff, sandbox.
        #[arg(long)]
        role: Option<String>,
        /// Scope of the role: a neighbourhood id (coordinator), a business id (coach, owner,
        /// staff), empty for admin and sandbox.
        #[arg(long, default_value = "")]
        scope: String,
    },
    /// Grant a role (coach assignment: `--role coach --scope <business>`).
    Grant(RoleAssignment),
    /// Revoke a role; open connections lose access within seconds.
    RevokeRole(RoleAssignment),
    /// Delete a user: tokens stop working at once.
    DeleteUser {
        /// The user id.
        #[arg(long)]
        user: String,
    },
    /// Issue a device token for a user; prints the token alone on stdout.
    IssueToken {
        /// The user id.
        #[arg(long)]
        user: String,
        /// A label (e.g. the device).
        #[arg(long, default_value = "")]
        label: String,
        /// Days until it expires unless used (each use renews it for the server's
        /// `--token-ttl-days`).
        #[arg(long, default_value_t = nachbar_server::tokens::DEFAULT_TTL_DAYS)]
        expires_days: u64,
        /// A token that never expires (a service's, not a device's).
        #[arg(long)]
        no_expiry: bool,
    },
    /// Revoke a token, given as the secret (`--token`) or by its id from `list-tokens` (`--id`).
    RevokeToken {
        /// The token.
        #[arg(long, conflicts_with = "id", required_unless_present = "id")]
        token: Option<String>,
        /// The token's id.
        #[arg(long)]
        id: Option<String>,
    },
    /// List a user's tokens: id, label, issued, last used, expiry, state (tab-separated).
    ListTokens {
        /// The user id.
        #[arg(long)]
        user: String,
    },
    /// Set a user's login name and web password (the password is read from the environment
    /// variable NACHBAR_PASSWORD, or from standard input, so it stays out of shell history).
    SetPassword {
        /// The user id.
        #[arg(long)]
        user: String,
        /// The login name.
        #[arg(long)]
        login: String,
    },
    /// Create an invite code for a user (enrol a device with POST /api/enroll, or open
    /// /enroll?code=… in a browser to set a password); prints the code.
    Invite {
        /// The user id.
        #[arg(long)]
        user: String,
        /// Days the code stays valid.
        #[arg(long, default_value_t = 7)]
        valid_days: i64,
    },
    /// Write a consistent copy of the database (works while the server runs).
    Backup {
        /// Target file.
        #[arg(long)]
        to: PathBuf,
    },
    /// Copy a single node's SQLite data (documents with their history, directory, tokens,
    /// sessions, invites, calendar feeds, acts; the storage id) into the empty PostgreSQL
    /// database named by `--database`, and check every document loads with the same heads.
    /// The source's server must be stopped.
    MigrateToPostgres {
        /// The single node's data directory.
        #[arg(long)]
        from: PathBuf,
    },
    /// Replace the database by a backup (server stopped); it gets a new storage id, so clients
    /// re-upload what the backup lacks.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
    },
    /// Export a document as an `.automerge` file.
    Export {
        /// The document id.
        #[arg(long)]
        doc: String,
        /// Target file.
        #[arg(long)]
        to: PathBuf,
    },
    /// Write a report as PDF: an action plan or an assessment result (`--doc`) or a
    /// neighbourhood summary (`--neighbourhood`), the same the pages offer.
    Report(ReportArgs),
    /// Check the database: SQLite integrity and that every document loads.
    Check,
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("nachbar_server=info,nachbar_core=info")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received");
}

async fn check_role(access: &dyn AccessStore, role: &str, scope: &str) -> anyhow::Result<()> {
    let dir = access.directory(Timestamp::now().millis()).await?;
    match role {
        roles::ADMIN | roles::SANDBOX if scope.is_empty() => Ok(()),
        roles::COORDINATOR if dir.neighbourhoods.contains(scope) => Ok(()),
        roles::COACH | roles::OWNER | roles::STAFF if dir.businesses.contains_key(scope) => Ok(()),
        r if !roles::ALL.contains(&r) => {
            bail!("unknown role {r}; roles: {}", roles::ALL.join(", "))
        }
        r => bail!(
            "role {r} needs a matching scope (neighbourhood for coordinator, business for coach/owner/staff, none for admin/sandbox)"
        ),
    }
}

async fn grant(
    storage: &Storage,
    user: &str,
    role: &str,
    scope: &str,
    now: Timestamp,
) -> anyhow::Result<()> {
    check_role(storage.access.as_ref(), role, scope).await?;
    storage.access.grant_role(user, role, scope).await?;
    show_staff(storage, user, role, scope, now).await
}

/// Shows a coordinator or coach in their neighbourhood document (display only: the role
/// already counts; a failure here says so and can be repaired by granting again).
async fn show_staff(
    storage: &Storage,
    user: &str,
    role: &str,
    scope: &str,
    now: Timestamp,
) -> anyhow::Result<()> {
    let dir = storage.access.directory(now.millis()).await?;
    let hood = match role {
        roles::COORDINATOR => Some(scope.to_owned()),
        roles::COACH => dir.businesses.get(scope).map(|b| b.neighbourhood.clone()),
        _ => None,
    };
    if let Some(hood) = hood {
        admin::show_staff(storage, &hood, user, role == roles::COACH, now)
            .await
            .context(
                "the role holds; showing it in the neighbourhood document failed (grant it again)",
            )?;
    }
    Ok(())
}

async fn run_admin(config: &ServeConfig, command: Admin) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)?;
    let db = config.database_path();
    if let Admin::Restore { from } = &command {
        if config.database.is_some() {
            bail!("restore a PostgreSQL database with its own tools (pg_restore)");
        }
        // Never under a running server; held until the restored database is in place.
        let _lock = nachbar_server::data_lock::lock(&config.data_dir)?;
        println!("{}", restore(&db, from)?);
        return Ok(());
    }
    if let Admin::MigrateToPostgres { from } = &command {
        return migrate_to_postgres(config, from).await;
    }
    let opened = nachbar_server::storage::node::for_admin(config.database.as_deref(), &db)
        .await
        .context("opening the database")?;
    let storage = &opened.storage;
    let now = Timestamp::now();
    match command {
        Admin::Init => println!("{}", admin::init(storage, now).await?),
        Admin::AddNeighbourhood { name, location } => {
            println!(
                "{}",
                admin::add_neighbourhood(storage, &name, &location, now)
                    .await?
                    .0
            );
        }
        Admin::AddBusiness {
            neighbourhood,
            name,
            trade,
            size,
        } => {
            let size = size.as_deref().map(SizeBand::parse).transpose()?;
            let (id, _) =
                admin::add_business(storage, &neighbourhood, &name, &trade, size, now).await?;
            println!("{id}");
        }
        Admin::BusinessLeft { business } => {
            admin::business_left(storage, &business, now).await?;
        }
        Admin::AddUser { name, role, scope } => {
            // The role is checked before the user exists, so a bad one leaves nothing behind.
            if let Some(role) = &role {
                check_role(storage.access.as_ref(), role, &scope).await?;
            }
            // The user and its role land together (or neither).
            let Some(role) = role else {
                println!("{}", storage.access.add_user(&name, now.millis()).await?);
                return Ok(());
            };
            let id = storage
                .access
                .add_user_with_role(&name, &role, &scope, now.millis())
                .await?;
            println!("{id}");
            show_staff(storage, &id, &role, &scope, now).await?;
        }
        Admin::Grant(RoleAssignment { user, role, scope }) => {
            grant(storage, &user, &role, &scope, now).await?;
        }
        Admin::RevokeRole(RoleAssignment { user, role, scope }) => {
            if !storage.access.revoke_role(&user, &role, &scope).await? {
                bail!("{user} does not hold {role} {scope}");
            }
        }
        Admin::DeleteUser { user } => {
            if !storage.access.delete_user(&user, now.millis()).await? {
                bail!("no such user");
            }
        }
        Admin::IssueToken {
            user,
            label,
            expires_days,
            no_expiry,
        } => {
            let expires =
                (!no_expiry).then(|| now.millis() + nachbar_server::tokens::days_ms(expires_days));
            println!(
                "{}",
                storage
                    .access
                    .issue_token(&user, &label, expires, now.millis())
                    .await?
            );
        }
        Admin::RevokeToken { token, id } => {
            let revoked = match (token, id) {
                (Some(token), _) => storage.access.revoke_token(&token, now.millis()).await?,
                (None, Some(id)) => opened.web.revoke_token_id(&id, now.millis()).await?,
                (None, None) => false,
            };
            if !revoked {
                bail!("no such active token");
            }
        }
        Admin::Export { doc, to } => {
            let stored = storage
                .documents
                .load(&doc)
                .await?
                .with_context(|| format!("no document {doc}"))?;
            let am = nachbar_server::storage::load_automerge(&stored.bytes)
                .context("the stored document does not load")?;
            std::fs::write(&to, am.save()).with_context(|| format!("writing {}", to.display()))?;
        }
        Admin::Restore { .. } | Admin::Report(_) | Admin::MigrateToPostgres { .. } => {
            unreachable!("handled above")
        }
        Admin::Backup { to } => {
            let Some(conn) = &opened.embedded else {
                bail!("back a PostgreSQL database up with its own tools (pg_basebackup, pg_dump)");
            };
            let conn = std::sync::Arc::clone(conn);
            nachbar_server::storage::on_store(&conn, move |s| s.backup_to(&to)).await?;
        }
        other => accounts_admin(&opened, other, now).await?,
    }
    Ok(())
}

/// `admin migrate-to-postgres`: see [`Admin::MigrateToPostgres`].
async fn migrate_to_postgres(config: &ServeConfig, from: &std::path::Path) -> anyhow::Result<()> {
    let Some(url) = &config.database else {
        bail!("name the PostgreSQL database with --database (or NACHBAR_DATABASE)");
    };
    // No server may write the source meanwhile.
    let _lock = nachbar_server::data_lock::lock(from)?;
    let file = from.join("nachbar.sqlite3");
    if !file.exists() {
        bail!("no database at {}", file.display());
    }
    let source = Store::open(&file).with_context(|| format!("opening {}", file.display()))?;
    let pool = nachbar_server::storage::postgres::connect(url)
        .await
        .context("opening the PostgreSQL database")?;
    let target = nachbar_server::storage::postgres::PgDocuments::new(pool.clone());
    let imported =
        nachbar_server::storage::postgres::import::import_sqlite(&source, &pool, &target).await?;
    for (table, rows) in &imported.rows {
        println!("{table}\t{rows}");
    }
    println!(
        "{} documents load with the same heads; storage id {}",
        imported.documents_checked, imported.storage_id
    );
    Ok(())
}

/// The admin commands on people's accounts and the database's health, on either database.
async fn accounts_admin(
    opened: &AdminStorage,
    command: Admin,
    now: Timestamp,
) -> anyhow::Result<()> {
    let store = opened.web.as_ref();
    match command {
        Admin::ListTokens { user } => {
            let at = |ms: Option<i64>| {
                ms.map_or_else(
                    || "-".to_owned(),
                    |ms| nachbar_server::web::views::civil(ms.div_euclid(86_400_000)),
                )
            };
            for t in store.tokens_of(&user).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.label,
                    at(Some(t.created_at)),
                    at(t.last_used_at),
                    t.expires_at
                        .map_or_else(|| "never".to_owned(), |e| at(Some(e))),
                    t.state(now.millis())
                );
            }
        }
        Admin::SetPassword { user, login } => {
            let password = match std::env::var("NACHBAR_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            if !nachbar_server::web::pages::enroll::valid_login(&login) {
                bail!("a login name has 3 to 64 letters, digits, dots, hyphens or underscores");
            }
            let hash = nachbar_server::web::password::hash(&password)?;
            match store
                .set_credentials(&user, &login, &hash, now.millis())
                .await?
            {
                CredentialsOutcome::Set => {}
                CredentialsOutcome::LoginTaken => bail!("the login name {login} is taken"),
                CredentialsOutcome::NoUser => bail!("no such user"),
            }
            store
                .record_act("admin", "password.set", &user, &login, now.millis())
                .await?;
        }
        Admin::Invite { user, valid_days } => {
            println!(
                "{}",
                store
                    .create_invite(&user, now.millis() + valid_days * 86_400_000, now.millis())
                    .await?
            );
        }
        Admin::Check => {
            let integrity = store.integrity().await?;
            let mut broken = 0;
            let records = store.records().await?;
            for r in &records {
                let ok = opened
                    .storage
                    .documents
                    .load(&r.doc_id)
                    .await?
                    .is_some_and(|d| nachbar_server::storage::load_automerge(&d.bytes).is_ok());
                if !ok {
                    broken += 1;
                    eprintln!("document {} does not load", r.doc_id);
                }
            }
            println!(
                "integrity: {integrity}; documents: {}, not loading: {broken}",
                records.len()
            );
            if integrity != "ok" || broken > 0 {
                bail!("check failed");
            }
        }
        _ => unreachable!("handled by run_admin"),
    }
    Ok(())
}

/// Replaces the database at `db` by the backup `from`, so that nothing is lost on the way:
/// the backup is checked first (read-only), prepared under a temporary name with its new
/// storage id (clients then upload what it lacks), and only then moved into place; the old
/// files are kept beside it (`.before-restore-<ms>`), never deleted. Returns the new storage
/// id.
fn restore(db: &std::path::Path, from: &std::path::Path) -> anyhow::Result<String> {
    let integrity = nachbar_server::storage::integrity_of_file(from)
        .with_context(|| format!("checking the backup {}", from.display()))?;
    if integrity != "ok" {
        bail!("the backup {} is damaged: {integrity}", from.display());
    }
    let sibling = |suffix: &str| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    let staged = sibling(".restoring");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(sibling(&format!(".restoring{suffix}")));
    }
    std::fs::copy(from, &staged).with_context(|| format!("copying {}", from.display()))?;
    let storage_id = {
        let store = Store::open(&staged)?;
        store.renew_storage_id()?
        // Closing the only connection checkpoints the WAL into the file.
    };
    std::fs::File::open(&staged)?.sync_all()?;
    let kept = format!(".before-restore-{}", Timestamp::now().millis());
    for suffix in ["", "-wal", "-shm"] {
        let current = sibling(suffix);
        if current.exists() {
            std::fs::rename(&current, sibling(&format!("{kept}{suffix}")))
                .with_context(|| format!("moving {} aside", current.display()))?;
        }
    }
    std::fs::rename(&staged, db)
        .with_context(|| format!("moving the restored database into {}", db.display()))?;
    Ok(storage_id)
}

/// Creates the `sandbox` user once and writes a token for it to `path`; a token already in the
/// file that still works for that user is kept (one token, not a new one each start).
async fn write_sandbox_token(config: &ServeConfig, path: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)?;
    let opened = nachbar_server::storage::node::for_admin(
        config.database.as_deref(),
        &config.database_path(),
    )
    .await?;
    let access = &opened.storage.access;
    let now = Timestamp::now().millis();
    let name = "sandbox (token file)";
    let user = match access.user_named(name).await? {
        Some(id) => id,
        None => {
            access
                .add_user_with_role(name, roles::SANDBOX, "", now)
                .await?
        }
    };
    if let Ok(kept) = std::fs::read_to_string(path)
        && let Ok(Ok(principal)) = access.principal_for_token(kept.trim(), now).await
        && principal.user_id == user
    {
        return Ok(());
    }
    let expires = now + nachbar_server::tokens::days_ms(config.token_ttl_days.max(1));
    let token = access
        .issue_token(&user, "token file", Some(expires), now)
        .await?;
    std::fs::write(path, format!("{token}\n"))
        .with_context(|| format!("writing {}", path.display()))
}

/// `admin report`: the same report a page offers, written to a file.
async fn run_report(config: &ServeConfig, args: ReportArgs) -> anyhow::Result<()> {
    use nachbar_server::web::offline::{self, Reader};
    use nachbar_server::web::pdf;
    let db = config.database_path();
    if config.database.is_none() && !db.exists() {
        bail!(
            "no nachbar database at {} (is --data-dir right?)",
            db.display()
        );
    }
    let opened = nachbar_server::storage::node::for_admin(config.database.as_deref(), &db)
        .await
        .context("opening the database")?;
    let lang = if args.lang == "en" {
        nachbar_core::label::Lang::En
    } else {
        nachbar_core::label::Lang::De
    };
    let reader = args.as_user.map_or(Reader::Operator, Reader::User);
    let (web, who) = offline::open(
        opened.storage,
        opened.web,
        &reader,
        lang,
        Timestamp::now().millis(),
    )
    .await?;
    let made = match (&args.doc, &args.neighbourhood) {
        (Some(doc), _) => match pdf::plan(&web, &who, doc, lang, args.history).await? {
            Some(p) => Some(p),
            None => pdf::assessment(&web, &who, doc, lang, &pdf::Findings::All).await?,
        },
        (None, Some(n)) => pdf::neighbourhood(&web, &who, n, lang).await?,
        (None, None) => bail!("name --doc or --neighbourhood"),
    };
    let Some(made) = made else {
        bail!("no such action plan, assessment or neighbourhood (or not readable by this user)");
    };
    // Readable by the operator only: a plan or an assessment is confidential.
    let mut file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&args.to)
    }
    .with_context(|| format!("writing {}", args.to.display()))?;
    std::io::Write::write_all(&mut file, &made.bytes)
        .with_context(|| format!("writing {}", args.to.display()))?;
    println!("{} ({} bytes)", args.to.display(), made.bytes.len());
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(cli.serve.log_format);
    match cli.command {
        Some(Cmd::Admin(Admin::Report(args))) => run_report(&cli.serve, args).await,
        Some(Cmd::Admin(command)) => run_admin(&cli.serve, command).await,
        None | Some(Cmd::Serve) => {
            if cli.demo {
                demo::prepare(&cli.serve).await?;
            }
            if let Some(path) = &cli.serve.sandbox_token_file {
                write_sandbox_token(&cli.serve, path).await?;
            }
            let listener = tokio::net::TcpListener::bind(cli.serve.listen)
                .await
                .with_context(|| format!("binding {}", cli.serve.listen))?;
            nachbar_server::server::run(cli.serve, listener, shutdown_signal()).await
        }
    }
}
