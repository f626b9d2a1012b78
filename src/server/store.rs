//! The server's memory: worlds by id and by AccessKeyId, each with its
//! clock, business state, nonce set and quota window.
//!
//! Per-world locking: everything a request reads and writes about its world
//! sits behind that world's one mutex, so two racing requests with the same
//! token serialise and the change applies exactly once. The maps themselves
//! are only read-locked on the hot path.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Instant;

use super::nonces::{NonceCount, Nonces};
use crate::spec::{World, WorldState};

/// Bounds that keep a misbehaving harness or a hostile client from
/// exhausting memory. Each is refused with a clear error, never by falling
/// over: worlds by the control protocol (400 naming the JSON path for a
/// world too large, 503 when the server is full, both with a JSON
/// `error`), body size and parameter count by the HTTP shell (413 / 414 in
/// plain text: the ECS rules table has no code for them, so the answer
/// carries none), a full nonce store by the ECS API (503 in plain text).
/// The connection layer's bounds are [`super::ConnLimits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Worlds alive at once; a deleted world frees its slot.
    pub max_worlds: usize,
    pub max_instances_per_world: usize,
    pub max_instance_types_per_world: usize,
    pub max_images_per_world: usize,
    /// Entries of all `allowed_changes` lists of a world together.
    pub max_allowed_changes_per_world: usize,
    /// World documents alive at once, in bytes of compact JSON (a world
    /// in memory takes about twice its document).
    pub max_world_bytes_total: usize,
    /// Nonces remembered (G10, 15 minutes) per world and in all worlds.
    /// Each costs about 100 bytes whatever its length: the store keeps a
    /// 128-bit digest, not the nonce.
    pub max_nonces_per_world: usize,
    pub max_nonces_total: usize,
    /// ECS API request body.
    pub max_body_bytes: usize,
    /// Parameters of one ECS API request, query and form body together:
    /// counted before parsing, since each parsed pair costs far more memory
    /// than its bytes on the wire.
    pub max_params: usize,
    /// Names in a V3 `SignedHeaders` list (SDKs sign 6 to 9); a longer
    /// list is refused unverified (G9), since it is hashed as given.
    pub max_signed_headers: usize,
    /// Bytes of a V3 canonical request, measured before it is hashed.
    pub max_canonical_request_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_worlds: 10_000,
            max_instances_per_world: 1_000,
            max_instance_types_per_world: 1_000,
            max_images_per_world: 1_000,
            max_allowed_changes_per_world: 10_000,
            max_world_bytes_total: 64 * 1024 * 1024,
            max_nonces_per_world: 50_000,
            max_nonces_total: 500_000,
            max_body_bytes: 64 * 1024,
            max_params: 256,
            max_signed_headers: 64,
            max_canonical_request_bytes: 256 * 1024,
        }
    }
}

/// Freed world documents (bytes) after which memory is handed back to the
/// operating system (see [`release_memory`]).
const TRIM_AFTER_BYTES: usize = 4 * 1024 * 1024;

/// The mutable part of a world, behind its mutex.
#[derive(Debug)]
pub struct WorldInner {
    pub state: WorldState,
    /// World clock: seconds since creation, moved only by the control protocol.
    pub now: i64,
    /// World times of the requests that count against the G12 quota.
    pub quota_window: VecDeque<i64>,
    /// Nonces seen with a verified signature (G10).
    nonces: Nonces,
}

impl WorldInner {
    /// True if the nonce was used within the window; prunes old entries.
    pub(crate) fn nonce_used(&mut self, nonce: &str, at: Instant) -> bool {
        self.nonces.used(nonce, at)
    }

    /// Records a nonce as used now; false (and nothing recorded) when the
    /// world or the server already holds as many nonces as it may.
    pub(crate) fn record_nonce(&mut self, nonce: &str, at: Instant) -> bool {
        self.nonces.record(nonce, at)
    }

    /// Why a nonce cannot be recorded, for the refusal's text.
    pub(crate) fn nonce_store_full(&self) -> String {
        self.nonces.full_reason()
    }
}

/// One world: credentials (immutable) and its locked state.
#[derive(Debug)]
pub struct WorldSlot {
    pub world_id: String,
    pub access_key_id: String,
    /// Only the control protocol's creation answer ever carries this out.
    pub secret: String,
    /// Bytes of its World document in compact JSON, charged against
    /// [`Limits::max_world_bytes_total`] while it lives.
    document_bytes: usize,
    inner: Mutex<WorldInner>,
}

impl WorldSlot {
    /// Locks the world. A poisoned lock (a panic elsewhere, which is a bug)
    /// still yields the state so the server keeps answering.
    pub fn lock(&self) -> MutexGuard<'_, WorldInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why a world could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("too many worlds: the server holds at most {0}; delete some first")]
    TooManyWorlds(usize),
    /// A world larger than the server takes; `path` is its JSON path.
    #[error("{path}: too many {what} ({got}); the server allows at most {max} per world")]
    TooMany {
        path: &'static str,
        what: &'static str,
        got: usize,
        max: usize,
    },
    #[error(
        "$: the server's worlds take {used} bytes of World documents and this one {size} more, over its total of {max}; delete worlds first"
    )]
    OverBudget { used: usize, size: usize, max: usize },
}

#[derive(Default)]
struct Maps {
    by_id: HashMap<String, Arc<WorldSlot>>,
    by_key: HashMap<String, Arc<WorldSlot>>,
    /// Sum of the live worlds' `document_bytes`.
    document_bytes: usize,
}

/// All worlds of one server.
pub struct Store {
    maps: RwLock<Maps>,
    limits: Limits,
    secret_prefix: Option<String>,
    nonce_count: Arc<NonceCount>,
    /// Document bytes of worlds deleted since memory was last handed back.
    freed_since_trim: AtomicUsize,
}

impl Store {
    pub fn new(limits: Limits, secret_prefix: Option<String>) -> Self {
        Store {
            maps: RwLock::new(Maps::default()),
            limits,
            secret_prefix,
            nonce_count: NonceCount::new(limits.max_nonces_per_world, limits.max_nonces_total),
            freed_since_trim: AtomicUsize::new(0),
        }
    }

    /// The per-world bounds, each with the JSON path it names.
    fn check_size(&self, world: &World) -> Result<(), StoreError> {
        let l = &self.limits;
        let changes: usize = world.catalog.allowed_changes.values().map(Vec::len).sum();
        let checks = [
            (
                "$.instances",
                "instances",
                world.instances.len(),
                l.max_instances_per_world,
            ),
            (
                "$.catalog.instance_types",
                "instance types",
                world.catalog.instance_types.len(),
                l.max_instance_types_per_world,
            ),
            ("$.images", "images", world.images.len(), l.max_images_per_world),
            (
                "$.catalog.allowed_changes",
                "allowed changes (all lists together)",
                changes,
                l.max_allowed_changes_per_world,
            ),
        ];
        for (path, what, got, max) in checks {
            if got > max {
                return Err(StoreError::TooMany { path, what, got, max });
            }
        }
        Ok(())
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Maps> {
        self.maps.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Maps> {
        self.maps.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates a world with fresh credentials. Its size in compact JSON is
    /// charged against the total while it lives.
    pub fn create(&self, world: World) -> Result<Arc<WorldSlot>, StoreError> {
        self.check_size(&world)?;
        let document_bytes = json_size(&world);
        let id = uuid::Uuid::new_v4().simple().to_string();
        let slot = Arc::new(WorldSlot {
            world_id: format!("w-{}", &id[..16]),
            access_key_id: format!("LTAI{}", &id[16..]),
            secret: format!(
                "{}{}",
                self.secret_prefix.as_deref().unwrap_or(""),
                uuid::Uuid::new_v4().simple()
            ),
            document_bytes,
            inner: Mutex::new(WorldInner {
                state: WorldState::new(world),
                now: 0,
                quota_window: VecDeque::new(),
                nonces: Nonces::new(self.nonce_count.clone()),
            }),
        });
        let mut maps = self.write();
        if maps.by_id.len() >= self.limits.max_worlds {
            return Err(StoreError::TooManyWorlds(self.limits.max_worlds));
        }
        let max = self.limits.max_world_bytes_total;
        if maps.document_bytes + document_bytes > max {
            return Err(StoreError::OverBudget {
                used: maps.document_bytes,
                size: document_bytes,
                max,
            });
        }
        maps.document_bytes += document_bytes;
        maps.by_id.insert(slot.world_id.clone(), slot.clone());
        maps.by_key.insert(slot.access_key_id.clone(), slot.clone());
        Ok(slot)
    }

    pub(crate) fn by_id(&self, id: &str) -> Option<Arc<WorldSlot>> {
        self.read().by_id.get(id).cloned()
    }

    pub fn by_key(&self, key: &str) -> Option<Arc<WorldSlot>> {
        self.read().by_key.get(key).cloned()
    }

    /// Removes a world; its AccessKeyId becomes unknown at once. Once
    /// enough world documents are freed, the memory goes back to the
    /// operating system.
    pub fn delete(&self, id: &str) -> bool {
        let freed = {
            let mut maps = self.write();
            let Some(slot) = maps.by_id.remove(id) else {
                return false;
            };
            maps.by_key.remove(&slot.access_key_id);
            maps.document_bytes -= slot.document_bytes;
            slot.document_bytes
        };
        let total = self.freed_since_trim.fetch_add(freed, Ordering::AcqRel) + freed;
        if total >= TRIM_AFTER_BYTES && self.freed_since_trim.swap(0, Ordering::AcqRel) > 0 {
            release_memory();
        }
        true
    }

    /// Every world but `except` that has an instance with this id
    /// (only the `R1-other-world-visible` mutant looks across worlds).
    pub(crate) fn other_world_with_instance(&self, except: &str, instance_id: &str) -> Option<Arc<WorldSlot>> {
        let candidates: Vec<_> = self
            .read()
            .by_id
            .values()
            .filter(|s| s.world_id != except)
            .cloned()
            .collect();
        candidates
            .into_iter()
            .find(|s| s.lock().state.instance(instance_id).is_some())
    }
}

/// The length of `world` in compact JSON, counted without building it.
fn json_size(world: &World) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    // Serializing plain data into a counter cannot fail.
    let _ = serde_json::to_writer(&mut c, world);
    c.0
}

/// Hands freed heap memory back to the operating system. glibc keeps what
/// a large world freed in its per-thread arenas (the issue measured RSS
/// staying at 1.43 GB after every DELETE); `malloc_trim(0)` returns the
/// free pages of every arena (glibc 2.8+). Other allocators return memory
/// on their own, so elsewhere this does nothing.
fn release_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only reads and updates the allocator's own state.
    unsafe {
        libc::malloc_trim(0);
    }
}
