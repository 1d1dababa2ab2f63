//! This browser's copy of the signed-in user's workspaces, in IndexedDB: the tree
//! and the files of every session opened here, and the saves made while the server
//! could not be reached, waiting to be sent. Values are stored as JSON text, the
//! same serde forms the API uses.

use crate::wire::files::{FileContent, TreeItem};
use idb::{Database, KeyRange, ObjectStore, Query, TransactionMode};
use js_sys::Array;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::rc::Rc;
use uuid::Uuid;
use wasm_bindgen::JsValue;

const META: &str = "meta";
const TREES: &str = "trees";
const FILES: &str = "files";
const QUEUE: &str = "queue";
const ALL: [&str; 4] = [META, TREES, FILES, QUEUE];

/// A save that has not reached the server yet: `content` based on `base`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub path: String,
    pub content: String,
    pub base: String,
    /// Order of the first unsent save of this file; later ones replace its text.
    pub seq: f64,
}

pub type Result<T> = std::result::Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    format!("this browser's storage failed: {e}")
}

thread_local! {
    static DB: std::cell::RefCell<Option<Rc<Database>>> = const { std::cell::RefCell::new(None) };
}

async fn db() -> Result<Rc<Database>> {
    if let Some(db) = DB.with_borrow(|d| d.clone()) {
        return Ok(db);
    }
    let mut builder = Database::builder("webide").version(1);
    for name in ALL {
        builder = builder.add_object_store(ObjectStore::builder(name));
    }
    let db = Rc::new(builder.build().await.map_err(err)?);
    DB.set(Some(db.clone()));
    Ok(db)
}

fn key(session: Uuid, path: &str) -> JsValue {
    Array::of2(&session.to_string().into(), &path.into()).into()
}

/// Every `[session, path]` key of one session: strings sort before arrays.
fn of_session(session: Uuid) -> Result<Query> {
    let lower = key(session, "");
    let upper: JsValue = Array::of2(&session.to_string().into(), &Array::new()).into();
    Ok(KeyRange::bound(&lower, &upper, None, None)
        .map_err(err)?
        .into())
}

fn encode<T: Serialize>(value: &T) -> JsValue {
    serde_json::to_string(value).unwrap_or_default().into()
}

fn decode<T: DeserializeOwned>(value: JsValue) -> Option<T> {
    serde_json::from_str(&value.as_string()?).ok()
}

/// Runs `f` over the named stores in one transaction and commits it.
async fn write<T, F, Fut>(stores: &[&str], f: F) -> Result<T>
where
    F: FnOnce(Vec<ObjectStore>) -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, idb::Error>>,
{
    let db = db().await?;
    let tx = db
        .transaction(stores, TransactionMode::ReadWrite)
        .map_err(err)?;
    let handles = stores
        .iter()
        .map(|s| tx.object_store(s))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(err)?;
    let out = f(handles).await.map_err(err)?;
    tx.commit().map_err(err)?.await.map_err(err)?;
    Ok(out)
}

/// One store, for reading.
async fn reading(store: &str) -> Result<ObjectStore> {
    db().await?
        .transaction(&[store], TransactionMode::ReadOnly)
        .map_err(err)?
        .object_store(store)
        .map_err(err)
}

async fn get<T: DeserializeOwned>(store: &str, key: JsValue) -> Result<Option<T>> {
    let value = reading(store).await?.get(key).map_err(err)?.await;
    Ok(value.map_err(err)?.and_then(decode))
}

async fn all<T: DeserializeOwned>(store: &str, session: Uuid) -> Result<Vec<T>> {
    let range = Some(of_session(session)?);
    let values = reading(store)
        .await?
        .get_all(range, None)
        .map_err(err)?
        .await;
    Ok(values
        .map_err(err)?
        .into_iter()
        .filter_map(decode)
        .collect())
}

/// Makes the copy `user`'s: another user's files and unsent saves are wiped first,
/// so nobody signing in on this browser sees what the previous user left. One
/// transaction, so two claims never interleave. True when something was wiped.
pub async fn claim(user: &str) -> Result<bool> {
    let user = user.to_string();
    write(&ALL, |s| async move {
        let owner: Option<String> = s[0].get(JsValue::from("owner"))?.await?.and_then(decode);
        if owner.as_deref() == Some(user.as_str()) {
            return Ok(false);
        }
        for store in &s {
            store.clear()?.await?;
        }
        s[0].put(&encode(&user), Some(&"owner".into()))?.await?;
        Ok(true)
    })
    .await
}

/// Wipes everything (signing out).
pub async fn forget() -> Result<()> {
    write(&ALL, |s| async move {
        for store in &s {
            store.clear()?.await?;
        }
        Ok(())
    })
    .await
}

pub async fn tree(session: Uuid) -> Result<Option<Vec<TreeItem>>> {
    get(TREES, session.to_string().into()).await
}

pub async fn file(session: Uuid, path: &str) -> Result<Option<FileContent>> {
    get(FILES, key(session, path)).await
}

/// Stores fetched files; with `tree`, also the tree they complete (written last,
/// so a stored tree never names files that were not stored).
pub async fn put_files(
    session: Uuid,
    files: Vec<FileContent>,
    gone: Vec<String>,
    tree: Option<Vec<TreeItem>>,
) -> Result<()> {
    write(&[FILES, TREES], |s| async move {
        for f in &files {
            s[0].put(&encode(f), Some(&key(session, &f.path)))?.await?;
        }
        for path in &gone {
            s[0].delete(key(session, path))?.await?;
        }
        if let Some(tree) = &tree {
            s[1].put(&encode(tree), Some(&session.to_string().into()))?
                .await?;
        }
        Ok(())
    })
    .await
}

/// The unsent saves of `session`, oldest first.
pub async fn queue(session: Uuid) -> Result<Vec<Pending>> {
    let mut q: Vec<Pending> = all(QUEUE, session).await?;
    q.sort_by(|a, b| a.seq.total_cmp(&b.seq));
    Ok(q)
}

pub async fn waiting(session: Uuid, path: &str) -> Result<Option<Pending>> {
    get(QUEUE, key(session, path)).await
}

/// Queues a save; a file already queued keeps its place and its base, since the
/// server has seen neither text.
pub async fn enqueue(session: Uuid, path: &str, content: &str, base: &str) -> Result<()> {
    let k = key(session, path);
    let earlier = waiting(session, path).await?;
    let pending = Pending {
        path: path.to_string(),
        content: content.to_string(),
        base: earlier.as_ref().map_or(base, |p| &p.base).to_string(),
        seq: earlier.map_or_else(js_sys::Date::now, |p| p.seq),
    };
    write(&[QUEUE], |s| async move {
        s[0].put(&encode(&pending), Some(&k))?.await?;
        Ok(())
    })
    .await
}

pub async fn dequeue(session: Uuid, path: &str) -> Result<()> {
    let k = key(session, path);
    write(&[QUEUE], |s| async move {
        s[0].delete(k)?.await?;
        Ok(())
    })
    .await
}

/// How many saves of any session wait to be sent.
pub async fn queued() -> Result<u32> {
    reading(QUEUE)
        .await?
        .count(None)
        .map_err(err)?
        .await
        .map_err(err)
}
