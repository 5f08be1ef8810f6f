//! The nachbar sync server binary: `serve` (the default) and `admin` commands.

use clap::{Parser, Subcommand};
use nachbar_server::config::{LogFormat, ServeConfig};
use nachbar_server::storage::Store;

#[derive(Debug, Parser)]
#[command(name = "nachbar-server", version, about = "nachbar sync server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    serve: ServeConfig,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the server (the default).
    Serve,
    /// Administration of the directory and tokens.
    #[command(subcommand)]
    Admin(Admin),
}

#[derive(Debug, Subcommand)]
enum Admin {
    /// Add a user with a role; prints the user id alone on stdout.
    AddUser {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Role: admin, coordinator, coach, owner, staff, sandbox.
        #[arg(long)]
        role: String,
        /// Scope of the role (neighbourhood or business id); empty for global roles.
        #[arg(long, default_value = "")]
        scope: String,
    },
    /// Issue a device token for a user; prints the token alone on stdout.
    IssueToken {
        /// The user id.
        #[arg(long)]
        user: String,
        /// A label (e.g. the device).
        #[arg(long, default_value = "")]
        label: String,
        /// Days until it expires (none: no expiry).
        #[arg(long)]
        expires_days: Option<i64>,
    },
    /// Revoke a token.
    RevokeToken {
        /// The token.
        #[arg(long)]
        token: String,
    },
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

fn admin(config: &ServeConfig, command: Admin) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)?;
    let store = Store::open(&config.database_path())?;
    let now = nachbar_core::time::Timestamp::now().millis();
    match command {
        Admin::AddUser { name, role, scope } => {
            let id = store.add_user(&name, now)?;
            store.grant_role(&id, &role, &scope)?;
            println!("{id}");
        }
        Admin::IssueToken {
            user,
            label,
            expires_days,
        } => {
            let expires = expires_days.map(|d| now + d * 86_400_000);
            println!("{}", store.issue_token(&user, &label, expires, now)?);
        }
        Admin::RevokeToken { token } => {
            if !store.revoke_token(&token, now)? {
                anyhow::bail!("no such active token");
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(cli.serve.log_format);
    match cli.command {
        Some(Cmd::Admin(command)) => admin(&cli.serve, command),
        None | Some(Cmd::Serve) => {
            let listener = tokio::net::TcpListener::bind(cli.serve.listen)
                .await
                .map_err(|e| anyhow::anyhow!("binding {}: {e}", cli.serve.listen))?;
            nachbar_server::server::run(cli.serve, listener, shutdown_signal()).await
        }
    }
}
