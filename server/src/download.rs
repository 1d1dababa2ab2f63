//! `GET /download/{session}[?path=folder]`: a session's files, or one folder's,
//! as a zip. Streamed as it is made: files come from Postgres one at a time and
//! leave in chunks, so the server's memory does not grow with the session.

use crate::services::Services;
use app::server::access;
use app::wire::access::Capability;
use app::AppError;
use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;
use std::io::Write;
use tokio::sync::mpsc;
use uuid::Uuid;

#[derive(serde::Deserialize)]
pub struct Folder {
    path: Option<String>,
}

/// An item on its way into the archive: its path inside it, and a file's bytes.
type Item = (String, Option<Vec<u8>>);

pub async fn zip(
    State(services): State<Services>,
    Path(session): Path<Uuid>,
    Query(folder): Query<Folder>,
    headers: HeaderMap,
) -> Response {
    let grant = match access::session_in(&services.pool, &headers, session, Capability::Read).await
    {
        Ok(g) => g,
        Err(e) => return e.into_response(),
    };
    let folder = match folder.path.as_deref().map(app::paths::validate).transpose() {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let name: String = match sqlx::query_scalar("SELECT name FROM code_sessions WHERE id = $1")
        .bind(grant.session_id)
        .fetch_one(&services.pool)
        .await
    {
        Ok(n) => n,
        Err(e) => return AppError::from(e).into_response(),
    };
    if let Some(f) = &folder {
        let kind: Option<String> = match sqlx::query_scalar(
            "SELECT kind FROM workspace_items WHERE session_id = $1 AND full_path = $2",
        )
        .bind(grant.session_id)
        .bind(f)
        .fetch_optional(&services.pool)
        .await
        {
            Ok(k) => k,
            Err(e) => return AppError::from(e).into_response(),
        };
        if kind.as_deref() != Some("folder") {
            return AppError::not_found(format!("no folder {f}")).into_response();
        }
    }
    let file_name = match &folder {
        Some(f) => app::paths::name(f).to_string(),
        None => name,
    };
    let (items_tx, items_rx) = mpsc::channel::<Item>(2);
    let (bytes_tx, bytes_rx) = mpsc::channel::<std::io::Result<bytes::Bytes>>(4);
    tokio::spawn(read_items(
        services.pool.clone(),
        grant.session_id,
        folder,
        items_tx,
    ));
    tokio::task::spawn_blocking(move || write_zip(items_rx, bytes_tx));
    let body = Body::from_stream(tokio_stream(bytes_rx));
    (
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.zip\"", ascii_name(&file_name)),
            ),
        ],
        body,
    )
        .into_response()
}

/// Sends the folder's items (or the session's), shallowest first, one by one.
async fn read_items(pool: sqlx::PgPool, sid: i64, folder: Option<String>, tx: mpsc::Sender<Item>) {
    let prefix = folder.as_ref().map(|f| format!("{f}/"));
    let mut rows = sqlx::query_as::<_, (String, String, Option<Vec<u8>>)>(
        "SELECT full_path, kind, COALESCE(data, convert_to(content, 'UTF8')) FROM workspace_items
         WHERE session_id = $1 AND ($2::text IS NULL OR starts_with(full_path, $2))
         ORDER BY full_path COLLATE \"C\"",
    )
    .bind(sid)
    .bind(&prefix)
    .fetch(&pool);
    while let Some(row) = rows.next().await {
        let (path, kind, content) = match row {
            Ok(r) => r,
            Err(e) => {
                // The archive ends short: the client sees a broken download.
                tracing::error!("zip of session {sid}: {e}");
                return;
            }
        };
        let inside = match &prefix {
            Some(p) => path[p.len()..].to_string(),
            None => path,
        };
        let bytes = (kind == "file").then(|| content.unwrap_or_default());
        if tx.send((inside, bytes)).await.is_err() {
            return;
        }
    }
}

/// Writes the archive as items arrive; its bytes leave in chunks of 64 KiB.
fn write_zip(mut items: mpsc::Receiver<Item>, out: mpsc::Sender<std::io::Result<bytes::Bytes>>) {
    use zip::write::SimpleFileOptions;
    let sink = Chunks {
        buf: Vec::with_capacity(CHUNK),
        out: out.clone(),
    };
    let mut zip = zip::ZipWriter::new_stream(sink);
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let result = (|| -> zip::result::ZipResult<()> {
        while let Some((path, bytes)) = items.blocking_recv() {
            match bytes {
                None => zip.add_directory(path, options)?,
                Some(b) => {
                    zip.start_file(path, options.large_file(b.len() as u64 >= u32::MAX as u64))?;
                    zip.write_all(&b)?;
                }
            }
        }
        zip.finish()?.into_inner().flush()?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = out.blocking_send(Err(std::io::Error::other(e)));
    }
}

const CHUNK: usize = 64 * 1024;

/// A writer that hands its bytes on in chunks (blocking while the client is slow).
struct Chunks {
    buf: Vec<u8>,
    out: mpsc::Sender<std::io::Result<bytes::Bytes>>,
}

impl Write for Chunks {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.out
            .blocking_send(Ok(chunk.into()))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }
}

fn tokio_stream(
    mut rx: mpsc::Receiver<std::io::Result<bytes::Bytes>>,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// A file name for the header: what is not plain ASCII becomes '_'.
fn ascii_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " ._-()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}
