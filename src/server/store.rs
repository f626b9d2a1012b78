//! The server's memory: worlds by id and by AccessKeyId, each with its
//! clock, business state, nonce set and quota window.
//!
//! Per-world locking: everything a request reads and writes about its world
//! sits behind that world's one mutex, so two racing requests with the same
//! token serialise and the change applies exactly once. The maps themselves
//! are only read-locked on the hot path.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use crate::spec::{World, WorldState};

/// How long a nonce stays used (G10), on the wall clock.
pub const NONCE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Bounds that keep a misbehaving harness or a hostile client from
/// exhausting memory. Each is refused with a clear error, never by falling
/// over: worlds and instances by the control protocol (503 / 400 with a
/// JSON `error`), body size and parameter count by the HTTP shell (413 /
/// 414 in plain text: the ECS rules table has no code for them, so the
/// answer carries none). Hyper bounds the request head (~400 KiB).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Worlds alive at once; a deleted world frees its slot.
    pub max_worlds: usize,
    pub max_instances_per_world: usize,
    /// ECS API request body.
    pub max_body_bytes: usize,
    /// Parameters of one ECS API request, query and form body together:
    /// counted before parsing, since each parsed pair costs far more memory
    /// than its bytes on the wire.
    pub max_params: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_worlds: 10_000,
            max_instances_per_world: 1_000,
            max_body_bytes: 64 * 1024,
            max_params: 256,
        }
    }
}

/// The mutable part of a world, behind its mutex.
#[derive(Debug)]
pub struct WorldInner {
    pub state: WorldState,
    /// World clock: seconds since creation, moved only by the control protocol.
    pub now: i64,
    /// World times of the requests that count against the G12 quota.
    pub quota_window: VecDeque<i64>,
    /// Nonces seen with a verified signature, oldest first (G10).
    nonces: VecDeque<(Instant, String)>,
    nonce_set: HashMap<String, Instant>,
}

impl WorldInner {
    /// True if the nonce was used within the window; prunes old entries.
    pub fn nonce_used(&mut self, nonce: &str, at: Instant) -> bool {
        while let Some((t, _)) = self.nonces.front() {
            if at.saturating_duration_since(*t) < NONCE_WINDOW {
                break;
            }
            if let Some((t, n)) = self.nonces.pop_front() {
                if self.nonce_set.get(&n) == Some(&t) {
                    self.nonce_set.remove(&n);
                }
            }
        }
        self.nonce_set.contains_key(nonce)
    }

    /// Records a nonce as used now.
    pub fn record_nonce(&mut self, nonce: &str, at: Instant) {
        self.nonce_set.insert(nonce.to_string(), at);
        self.nonces.push_back((at, nonce.to_string()));
    }
}

/// One world: credentials (immutable) and its locked state.
#[derive(Debug)]
pub struct WorldSlot {
    pub world_id: String,
    pub access_key_id: String,
    /// Only the control protocol's creation answer ever carries this out.
    pub secret: String,
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
    #[error("$.instances: too many instances ({got}); the server allows at most {max} per world")]
    TooManyInstances { got: usize, max: usize },
}

#[derive(Default)]
struct Maps {
    by_id: HashMap<String, Arc<WorldSlot>>,
    by_key: HashMap<String, Arc<WorldSlot>>,
}

/// All worlds of one server.
pub struct Store {
    maps: RwLock<Maps>,
    limits: Limits,
    secret_prefix: Option<String>,
}

impl Store {
    pub fn new(limits: Limits, secret_prefix: Option<String>) -> Self {
        Store {
            maps: RwLock::new(Maps::default()),
            limits,
            secret_prefix,
        }
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

    /// Creates a world with fresh credentials.
    pub fn create(&self, world: World) -> Result<Arc<WorldSlot>, StoreError> {
        if world.instances.len() > self.limits.max_instances_per_world {
            return Err(StoreError::TooManyInstances {
                got: world.instances.len(),
                max: self.limits.max_instances_per_world,
            });
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let slot = Arc::new(WorldSlot {
            world_id: format!("w-{}", &id[..16]),
            access_key_id: format!("LTAI{}", &id[16..]),
            secret: format!(
                "{}{}",
                self.secret_prefix.as_deref().unwrap_or(""),
                uuid::Uuid::new_v4().simple()
            ),
            inner: Mutex::new(WorldInner {
                state: WorldState::new(world),
                now: 0,
                quota_window: VecDeque::new(),
                nonces: VecDeque::new(),
                nonce_set: HashMap::new(),
            }),
        });
        let mut maps = self.write();
        if maps.by_id.len() >= self.limits.max_worlds {
            return Err(StoreError::TooManyWorlds(self.limits.max_worlds));
        }
        maps.by_id.insert(slot.world_id.clone(), slot.clone());
        maps.by_key.insert(slot.access_key_id.clone(), slot.clone());
        Ok(slot)
    }

    pub fn by_id(&self, id: &str) -> Option<Arc<WorldSlot>> {
        self.read().by_id.get(id).cloned()
    }

    pub fn by_key(&self, key: &str) -> Option<Arc<WorldSlot>> {
        self.read().by_key.get(key).cloned()
    }

    /// Removes a world; its AccessKeyId becomes unknown at once.
    pub fn delete(&self, id: &str) -> bool {
        let mut maps = self.write();
        match maps.by_id.remove(id) {
            Some(slot) => {
                maps.by_key.remove(&slot.access_key_id);
                true
            }
            None => false,
        }
    }

    /// Every world but `except` that has an instance with this id
    /// (only the `R1-other-world-visible` mutant looks across worlds).
    pub fn other_world_with_instance(&self, except: &str, instance_id: &str) -> Option<Arc<WorldSlot>> {
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
