//! The file tree: rendered on the server, interactive once hydrated. Click or Enter
//! opens, arrows move and fold, F2 renames, Delete deletes, right-click or
//! Shift+F10 opens the context menu, drag and drop moves; files dropped from the
//! desktop are uploaded into the folder they land on.

use super::workspace::{use_ws, Pick, Ws};
use crate::paths;
use crate::wire::access::Capability;
use crate::wire::files::{ItemKind, TreeItem};
use leptos::prelude::*;
use std::collections::{BTreeMap, HashSet};

/// The rows to show: folders before files, by name, children under expanded folders.
pub fn visible_rows(items: &[TreeItem], expanded: &HashSet<String>) -> Vec<(TreeItem, usize)> {
    let mut children: BTreeMap<Option<&str>, Vec<&TreeItem>> = BTreeMap::new();
    for item in items {
        children
            .entry(paths::parent(&item.path))
            .or_default()
            .push(item);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| {
            (
                a.kind != ItemKind::Folder,
                paths::name(&a.path).to_lowercase(),
            )
                .cmp(&(
                    b.kind != ItemKind::Folder,
                    paths::name(&b.path).to_lowercase(),
                ))
        });
    }
    let mut rows = Vec::new();
    let mut stack: Vec<(&TreeItem, usize)> = children
        .get(&None)
        .map(|l| l.iter().rev().map(|i| (*i, 0)).collect())
        .unwrap_or_default();
    while let Some((item, depth)) = stack.pop() {
        rows.push((item.clone(), depth));
        if item.kind == ItemKind::Folder && expanded.contains(&item.path) {
            if let Some(kids) = children.get(&Some(item.path.as_str())) {
                stack.extend(kids.iter().rev().map(|i| (*i, depth + 1)));
            }
        }
    }
    rows
}

#[derive(Clone)]
struct Menu {
    x: i32,
    y: i32,
    target: Option<TreeItem>,
}

#[component]
pub fn FileTree() -> impl IntoView {
    let ws = use_ws();
    let menu = RwSignal::new(None::<Menu>);
    let rows = move || {
        ws.tree
            .items
            .with(|items| ws.tree.expanded.with(|e| visible_rows(items, e)))
    };
    let new_in_selection = move |kind| {
        let selected = ws.tree.selected.get_untracked();
        ws.ask_create(ws.tree.folder_for(selected.as_deref()), kind)
    };
    let writable = move || ws.can(Capability::Write);
    // A viewer has nothing to do in a menu of changes.
    let open_menu = Callback::new(move |m: Menu| {
        if ws.can(Capability::Write) {
            menu.set(Some(m));
        }
    });
    view! {
        <div class="explorer" on:click=move |_| menu.set(None)>
            <div class="explorer-head">
                <span>"Explorer"</span>
                <Show when=writable>
                    <button class="icon-button" title="New file" aria-label="New file"
                        on:click=move |_| new_in_selection(ItemKind::File)>"+"</button>
                    <button class="icon-button" title="New folder" aria-label="New folder"
                        on:click=move |_| new_in_selection(ItemKind::Folder)>"▣"</button>
                    <button class="icon-button" id="upload-files"
                        title="Upload files (or drop them on the tree)" aria-label="Upload files"
                        on:click=move |_| {
                            let selected = ws.tree.selected.get_untracked();
                            ws.ask_upload(ws.tree.folder_for(selected.as_deref()), Pick::Files)
                        }>"⤒"</button>
                </Show>
                <button class="icon-button" title="Refresh" aria-label="Refresh"
                    on:click=move |_| ws.refresh()>"⟳"</button>
                <a class="icon-button" id="download-zip" href=format!("/download/{}", ws.session) download
                    title="Download the session as a zip" aria-label="Download the session as a zip">"⤓"</a>
            </div>
            <div
                class="tree"
                role="tree"
                aria-label="Files"
                on:contextmenu=move |ev| {
                    ev.prevent_default();
                    open_menu.run(Menu { x: ev.client_x(), y: ev.client_y(), target: None });
                }
                on:dragover=move |ev| ev.prevent_default()
                on:drop=move |ev| drop_on(&ws, ev, None)
            >
                {move || {
                    let rows = rows();
                    if rows.is_empty() {
                        view! { <p class="empty">"No files yet."</p> }.into_any()
                    } else {
                        rows.into_iter()
                            .map(|(item, depth)| view! { <TreeRow item depth open_menu /> })
                            .collect_view()
                            .into_any()
                    }
                }}
            </div>
            {move || menu.get().map(|m| view! { <ContextMenu menu=m close=move || menu.set(None) /> })}
        </div>
    }
}

fn drop_on(ws: &Ws, ev: leptos::ev::DragEvent, folder: Option<String>) {
    ev.prevent_default();
    ev.stop_propagation();
    if ws.drop_files(&ev, folder.clone()) {
        return;
    }
    let Some(from) = ev
        .data_transfer()
        .and_then(|d| d.get_data("text/x-webide-path").ok())
    else {
        return;
    };
    if from.is_empty() {
        return;
    }
    let to = match &folder {
        Some(f) => format!("{f}/{}", paths::name(&from)),
        None => paths::name(&from).to_string(),
    };
    if to != from
        && !folder
            .as_deref()
            .is_some_and(|f| paths::is_within(f, &from))
    {
        ws.move_to(from, to);
    }
}

#[component]
fn TreeRow(item: TreeItem, depth: usize, open_menu: Callback<Menu>) -> impl IntoView {
    let ws = use_ws();
    let tree = ws.tree;
    let path = item.path.clone();
    let is_folder = item.kind == ItemKind::Folder;
    let p = path.clone();
    let expanded = Memo::new(move |_| is_folder && tree.expanded.with(|e| e.contains(&p)));
    let p = path.clone();
    let selected = Memo::new(move |_| tree.selected.with(|s| s.as_deref() == Some(p.as_str())));
    let p = path.clone();
    let dirty = move || ws.tabs.is_dirty(&p);
    let p = path.clone();
    let unsynced = move || ws.copy.is_unsynced(&p);
    let p = path.clone();
    let activate = move || {
        if is_folder {
            tree.selected.set(Some(p.clone()));
            tree.toggle(&p);
        } else {
            ws.open(p.clone());
        }
    };
    let activate2 = activate.clone();
    let (p, it) = (path.clone(), item.clone());
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let handled = match ev.key().as_str() {
            "Enter" | " " => {
                activate2();
                true
            }
            "F2" => {
                ws.ask_rename(p.clone());
                true
            }
            "Delete" => {
                ws.ask_delete(p.clone());
                true
            }
            "ArrowDown" => move_focus(&ev, 1),
            "ArrowUp" => move_focus(&ev, -1),
            "ArrowRight" if is_folder => {
                tree.expanded.update(|e| {
                    e.insert(p.clone());
                });
                true
            }
            "ArrowLeft" if is_folder => {
                tree.expanded.update(|e| {
                    e.remove(&p);
                });
                true
            }
            "F10" if ev.shift_key() => open_menu_at_row(&ev, open_menu, it.clone()),
            "ContextMenu" => open_menu_at_row(&ev, open_menu, it.clone()),
            _ => false,
        };
        if handled {
            ev.prevent_default();
        }
    };
    let it = item.clone();
    let (drag_path, drop_path) = (path.clone(), path.clone());
    let name = paths::name(&path).to_string();
    view! {
        <div
            class="tree-row"
            class:selected=selected
            class:folder=is_folder
            class:unsynced=unsynced
            role="treeitem"
            tabindex="0"
            data-path=path.clone()
            aria-expanded=move || is_folder.then(|| expanded.get().to_string())
            aria-selected=move || selected.get().to_string()
            style=format!("padding-left: {}px", 8 + depth * 14)
            draggable=move || ws.can(Capability::Write).to_string()
            on:click=move |_| activate()
            on:keydown=on_key
            on:contextmenu=move |ev| {
                ev.prevent_default();
                ev.stop_propagation();
                tree.selected.set(Some(it.path.clone()));
                open_menu.run(Menu { x: ev.client_x(), y: ev.client_y(), target: Some(it.clone()) });

            }
            on:dragstart=move |ev| {
                if let Some(dt) = ev.data_transfer() {
                    let _ = dt.set_data("text/x-webide-path", &drag_path);
                }
            }
            on:dragover=move |ev| if is_folder { ev.prevent_default() }
            on:drop=move |ev| if is_folder { drop_on(&ws, ev, Some(drop_path.clone())) }
        >
            <span class="twisty">
                {move || match (is_folder, expanded.get()) {
                    (false, _) => "",
                    (true, true) => "▾",
                    (true, false) => "▸",
                }}
            </span>
            <span class="tree-name">{name}</span>
            <Show when=dirty><span class="dirty-dot" title="Unsaved changes">"●"</span></Show>
            <Show when=unsynced.clone()>
                <span class="unsynced-mark" title="Saved on this device, not yet on the server">"⇡"</span>
            </Show>
        </div>
    }
}

/// Moves keyboard focus to the next or previous row of the tree.
fn move_focus(ev: &leptos::ev::KeyboardEvent, step: i32) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(row) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return false;
        };
        let sibling = if step > 0 {
            row.next_element_sibling()
        } else {
            row.previous_element_sibling()
        };
        if let Some(el) = sibling.and_then(|s| s.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, step);
    true
}

fn open_menu_at_row(
    ev: &leptos::ev::KeyboardEvent,
    open_menu: Callback<Menu>,
    item: TreeItem,
) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(row) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        {
            let r = row.get_bounding_client_rect();
            open_menu.run(Menu {
                x: (r.left() + 24.0) as i32,
                y: r.bottom() as i32,
                target: Some(item),
            });
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, open_menu, item);
    true
}

#[component]
fn ContextMenu(menu: Menu, close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let ws = use_ws();
    let target = menu.target.clone();
    let folder = match &target {
        Some(t) if t.kind == ItemKind::Folder => Some(t.path.clone()),
        Some(t) => paths::parent(&t.path).map(str::to_owned),
        None => None,
    };
    let (f2, f3, f4, f5) = (
        folder.clone(),
        folder.clone(),
        folder.clone(),
        folder.clone(),
    );
    let entry = move |label: &'static str, action: Box<dyn Fn() + Send + Sync>| {
        view! {
            <button role="menuitem" class="menu-item" on:click=move |ev| {
                ev.stop_propagation();
                action();
                close();
            }>{label}</button>
        }
    };
    let items = vec![
        entry(
            "New file…",
            Box::new(move || ws.ask_create(folder.clone(), ItemKind::File)),
        ),
        entry(
            "New folder…",
            Box::new(move || ws.ask_create(f2.clone(), ItemKind::Folder)),
        ),
        entry(
            "Upload files…",
            Box::new(move || ws.ask_upload(f3.clone(), Pick::Files)),
        ),
        entry(
            "Upload folder…",
            Box::new(move || ws.ask_upload(f4.clone(), Pick::Folder)),
        ),
        entry(
            "Import zip here…",
            Box::new(move || ws.ask_upload(f5.clone(), Pick::Zip)),
        ),
    ];
    let target_items = target.map(|t| {
        let (a, b) = (t.path.clone(), t.path.clone());
        let mut items = vec![
            entry("Rename…", Box::new(move || ws.ask_rename(a.clone()))),
            entry("Delete", Box::new(move || ws.ask_delete(b.clone()))),
        ];
        if t.kind == ItemKind::Folder {
            let url = format!(
                "/download/{}?path={}",
                ws.session,
                super::account::percent_encode(&t.path)
            );
            items.push(entry(
                "Download as zip",
                Box::new(move || {
                    let _ = window().location().set_href(&url);
                }),
            ));
        }
        items
    });
    view! {
        <div
            class="context-menu"
            role="menu"
            style=format!("left: {}px; top: {}px", menu.x, menu.y)
            on:keydown=move |ev| if ev.key() == "Escape" { close() }
        >
            {items}
            {target_items}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(path: &str, kind: ItemKind) -> TreeItem {
        TreeItem {
            path: path.into(),
            kind,
            size: 0,
            hash: None,
            version: 1,
            media_type: None,
        }
    }

    #[test]
    fn folders_first_and_only_expanded_children() {
        let items = vec![
            item("b.py", ItemKind::File),
            item("src", ItemKind::Folder),
            item("src/z.py", ItemKind::File),
            item("src/lib", ItemKind::Folder),
            item("src/lib/x.py", ItemKind::File),
            item("A.txt", ItemKind::File),
        ];
        let shown = |e: &[&str]| {
            let e: HashSet<String> = e.iter().map(|s| s.to_string()).collect();
            visible_rows(&items, &e)
                .into_iter()
                .map(|(i, d)| format!("{d}:{}", i.path))
                .collect::<Vec<_>>()
        };
        assert_eq!(shown(&[]), ["0:src", "0:A.txt", "0:b.py"]);
        assert_eq!(
            shown(&["src"]),
            ["0:src", "1:src/lib", "1:src/z.py", "0:A.txt", "0:b.py"]
        );
        assert_eq!(
            shown(&["src", "src/lib"]),
            [
                "0:src",
                "1:src/lib",
                "2:src/lib/x.py",
                "1:src/z.py",
                "0:A.txt",
                "0:b.py"
            ]
        );
    }
}
