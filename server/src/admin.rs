//! One-off commands run by an operator (`server users set-level NAME 2`) on the
//! server's database: the configured one, or the private cluster under the data
//! directory (left running if a server uses it).

use crate::config::{AiKeysCommand, Command, Config, UsersCommand};
use crate::{database, embedded_pg, Error};

pub async fn run(config: &Config, command: &Command) -> Result<(), Error> {
    let (embedded, opts) =
        embedded_pg::locate(config.database_url.as_deref(), &config.data_dir).await?;
    let result = async {
        let pool = database::connect(opts).await?;
        database::migrate(&pool).await?;
        match command {
            Command::Users(UsersCommand::SetLevel { user, level }) => {
                set_level(&pool, user, *level).await
            }
            Command::AiKeys(AiKeysCommand::Reseal) => {
                let sealer = config.sealer()?;
                let moved = app::server::assistant::keys::reseal(&pool, &sealer)
                    .await
                    .map_err(|e| Error::Command(e.message))?;
                println!(
                    "{moved} keys now sealed with server key {}",
                    sealer.current_id()
                );
                Ok(())
            }
        }
    }
    .await;
    if let Some(pg) = embedded {
        pg.release().await?;
    }
    result
}

async fn set_level(pool: &sqlx::PgPool, user: &str, level: i16) -> Result<(), Error> {
    let found: Option<(i64, String, bool)> = sqlx::query_as(
        "SELECT id, username, is_guest FROM users WHERE lower(username) = lower($1) OR lower(email) = lower($1)",
    )
    .bind(user)
    .fetch_optional(pool)
    .await
    .map_err(|e| Error::Command(e.to_string()))?;
    let (id, name, guest) = found.ok_or_else(|| Error::Command(format!("no user named {user}")))?;
    if guest && level > 0 {
        return Err(Error::Command(format!(
            "{name} is a guest; guests are not reviewers"
        )));
    }
    app::server::reviews::store_level(pool, id, level)
        .await
        .map_err(|e| Error::Command(e.message))?;
    println!("{name} is now at reviewer level {level}");
    Ok(())
}
