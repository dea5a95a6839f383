//! A small in-memory notes resource: list, create, read, update, delete,
//! with tag filtering, as JSON.
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::RwLock;

#[derive(Clone, Serialize, Deserialize, Debug, PartialEq)]
pub struct Note {
    pub id: u64,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
}

#[derive(Deserialize)]
pub struct NewNote {
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Deserialize)]
pub struct Filter {
    pub tag: Option<String>,
    pub limit: Option<usize>,
}

#[derive(Default)]
pub struct NoteStore {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    notes: BTreeMap<u64, Note>,
}

impl NoteStore {
    pub async fn len(&self) -> usize {
        self.inner.read().await.notes.len()
    }

    pub async fn insert(&self, new: NewNote) -> Note {
        let mut inner = self.inner.write().await;
        inner.next_id += 1;
        let note = Note { id: inner.next_id, title: new.title, body: new.body, tags: normalize_tags(new.tags) };
        inner.notes.insert(note.id, note.clone());
        note
    }

    pub async fn get(&self, id: u64) -> Option<Note> {
        self.inner.read().await.notes.get(&id).cloned()
    }

    pub async fn replace(&self, id: u64, new: NewNote) -> Option<Note> {
        let mut inner = self.inner.write().await;
        let note = inner.notes.get_mut(&id)?;
        note.title = new.title;
        note.body = new.body;
        note.tags = normalize_tags(new.tags);
        Some(note.clone())
    }

    pub async fn remove(&self, id: u64) -> bool {
        self.inner.write().await.notes.remove(&id).is_some()
    }

    pub async fn list(&self, filter: &Filter) -> Vec<Note> {
        let inner = self.inner.read().await;
        let wanted = filter.tag.as_deref().map(str::to_lowercase);
        inner
            .notes
            .values()
            .filter(|note| wanted.as_ref().is_none_or(|tag| note.tags.contains(tag)))
            .take(filter.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect()
    }
}

/// Tags compare case-insensitively and appear once each, sorted.
fn normalize_tags(tags: Vec<String>) -> Vec<String> {
    let mut tags: Vec<String> = tags.into_iter().map(|tag| tag.trim().to_lowercase()).filter(|tag| !tag.is_empty()).collect();
    tags.sort();
    tags.dedup();
    tags
}

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/notes", get(list).post(create)).route("/notes/{id}", get(read).put(update).delete(delete))
}

async fn list(State(state): State<Arc<AppState>>, Query(filter): Query<Filter>) -> Json<Vec<Note>> {
    Json(state.notes.list(&filter).await)
}

async fn create(State(state): State<Arc<AppState>>, Json(new): Json<NewNote>) -> Result<(StatusCode, Json<Note>), (StatusCode, String)> {
    if new.title.trim().is_empty() {
        return Err((StatusCode::UNPROCESSABLE_ENTITY, "a note needs a title\n".to_string()));
    }
    Ok((StatusCode::CREATED, Json(state.notes.insert(new).await)))
}

async fn read(State(state): State<Arc<AppState>>, Path(id): Path<u64>) -> Result<Json<Note>, StatusCode> {
    state.notes.get(id).await.map(Json).ok_or(StatusCode::NOT_FOUND)
}

async fn update(State(state): State<Arc<AppState>>, Path(id): Path<u64>, Json(new): Json<NewNote>) -> Result<Json<Note>, StatusCode> {
    state.notes.replace(id, new).await.map(Json).ok_or(StatusCode::NOT_FOUND)
}

async fn delete(State(state): State<Arc<AppState>>, Path(id): Path<u64>) -> StatusCode {
    if state.notes.remove(id).await {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_lowercased_and_deduplicated() {
        let tags = normalize_tags(vec![" Rust".into(), "rust".into(), "".into(), "Axum".into()]);
        assert_eq!(tags, vec!["axum".to_string(), "rust".to_string()]);
    }
}
