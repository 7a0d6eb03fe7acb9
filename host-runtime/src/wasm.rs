//! The wasmtime host for the core-wasm module.
//!
//! `Engine` and `Module` are compiled once, the `InstancePre` prepared once.
//! Requests are served from a pool of ready instances that already hold the
//! pack (loading it builds the automaton inside the guest, which costs
//! milliseconds). Each instance's `Store` has a memory cap (`StoreLimits`)
//! and a compute budget per request ([`Budget`]: a deadline by default, or
//! deterministic fuel), so no input can exhaust or hang the host. An instance
//! that trapped is dropped; the next request gets a fresh one.

use crate::module_cache;
use distillguard::ErrorCode;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::{Config, Engine, InstancePre, Linker, Memory, Store, StoreLimits, StoreLimitsBuilder, TypedFunc};

/// The module this binary embeds, built from `classifier/module`.
pub const MODULE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/distillguard.wasm"));

/// The ABI version this host speaks.
pub const ABI_VERSION: u32 = 2;

/// Fuel for instantiating and loading a pack: a fixed part plus a part per
/// pack byte (the default pack needs well under a tenth of it).
const LOAD_FUEL_BASE: u64 = 2_000_000_000;
const LOAD_FUEL_PER_BYTE: u64 = 50_000;

/// The deadline for instantiating and loading a pack (the default pack
/// loads in about 15 ms).
const LOAD_DEADLINE_MS: u64 = 60_000;

/// One epoch tick: deadlines are counted in these.
const TICK: Duration = Duration::from_millis(5);

/// How much compute one request may use before the guest is stopped.
///
/// ```
/// use distillguard_host::wasm::{Budget, HostLimits};
/// // Deterministic: the same input runs out at the same point on every machine.
/// let fuel = Budget::Fuel { base: Budget::FUEL, per_byte: Budget::FUEL_PER_BYTE };
/// let limits = HostLimits { budget: fuel, ..HostLimits::default() };
/// assert_ne!(limits.budget, HostLimits::default().budget);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// A wall-clock deadline of `base_ms` plus `ms_per_mib` per MiB of input,
    /// by wasmtime's epoch interruption: the generated code only compares an
    /// epoch counter at loop back-edges and function entries. The default.
    Deadline {
        /// Milliseconds for any request.
        base_ms: u64,
        /// Milliseconds more per MiB of input.
        ms_per_mib: u64,
    },
    /// Fuel (about one unit per wasm instruction): `base` plus `per_byte`
    /// per input byte. Deterministic, so a limit fails the same input the
    /// same way everywhere, but metering costs more than the epoch check.
    Fuel {
        /// Fuel for any request.
        base: u64,
        /// Fuel more per input byte.
        per_byte: u64,
    },
}

impl Budget {
    /// The default deadline: a second...
    pub const DEADLINE_MS: u64 = 1_000;
    /// ...plus 10 s per MiB (a 1 MiB prompt takes about 0.15 s in wasm).
    pub const DEADLINE_MS_PER_MIB: u64 = 10_000;
    /// The default fuel: a fixed part...
    pub const FUEL: u64 = 200_000_000;
    /// ...plus this per input byte.
    pub const FUEL_PER_BYTE: u64 = 20_000;

    /// The budget of the same kind for instantiating and loading a pack:
    /// building its automaton is bounded by its own budget, not a request's.
    fn for_loading(self) -> Budget {
        match self {
            Budget::Fuel { .. } => Budget::Fuel { base: LOAD_FUEL_BASE, per_byte: LOAD_FUEL_PER_BYTE },
            Budget::Deadline { .. } => Budget::Deadline { base_ms: LOAD_DEADLINE_MS, ms_per_mib: 0 },
        }
    }

    /// Gives `store` this budget for work on `len` bytes of input.
    fn arm<T>(self, store: &mut Store<T>, len: usize) -> wasmtime::Result<()> {
        match self {
            Budget::Fuel { base, per_byte } => store.set_fuel(base.saturating_add(per_byte.saturating_mul(len as u64))),
            Budget::Deadline { base_ms, ms_per_mib } => {
                store.set_epoch_deadline(ticks(base_ms.saturating_add(ms_per_mib.saturating_mul(len as u64) >> 20)));
                Ok(())
            }
        }
    }
}

/// Limits for guest instances. The defaults are safe for an edge proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostLimits {
    /// Largest input accepted, in bytes; larger inputs are rejected before
    /// they reach the guest.
    pub max_input_bytes: usize,
    /// Linear-memory cap per instance, in bytes.
    pub max_memory_bytes: usize,
    /// Compute per request.
    pub budget: Budget,
    /// Ready instances kept in the pool.
    pub pool_size: usize,
}

impl Default for HostLimits {
    fn default() -> HostLimits {
        HostLimits {
            max_input_bytes: 1 << 20,
            max_memory_bytes: 256 << 20,
            budget: Budget::Deadline { base_ms: Budget::DEADLINE_MS, ms_per_mib: Budget::DEADLINE_MS_PER_MIB },
            pool_size: 4,
        }
    }
}

/// A failed request. The host keeps serving after any of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// The input is larger than `max_input_bytes`.
    InputTooLarge {
        /// Input length.
        len: usize,
        /// The cap.
        cap: usize,
    },
    /// The guest reported an error (invalid UTF-8, corrupt pack, ...).
    Guest {
        /// Stable code, e.g. `E103`.
        code: String,
        /// Message.
        message: String,
    },
    /// The guest ran out of fuel: the request took too long.
    OutOfFuel,
    /// The guest passed its deadline: the request took too long.
    DeadlineExceeded,
    /// The guest trapped (e.g. ran out of its memory cap); it was discarded.
    Trap(String),
    /// The module could not be compiled or instantiated.
    Setup(String),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::InputTooLarge { len, cap } => {
                write!(
                    f,
                    "error[{}]: input is {len} bytes, above the cap of {cap} bytes (raise it with --max-input)",
                    ErrorCode::InputRejected
                )
            }
            HostError::Guest { code, message } => write!(f, "error[{code}]: {message}"),
            HostError::OutOfFuel => write!(
                f,
                "error[{}]: the classifier ran out of fuel (the request took too long); the instance was replaced",
                ErrorCode::FuelExhausted
            ),
            HostError::DeadlineExceeded => write!(
                f,
                "error[{}]: the classifier passed its deadline (the request took too long); the instance was replaced",
                ErrorCode::DeadlineExceeded
            ),
            HostError::Trap(m) => {
                write!(f, "error[{}]: the classifier trapped and was replaced: {m}", ErrorCode::GuestTrap)
            }
            HostError::Setup(m) => write!(f, "error[{}]: cannot set up the wasm module: {m}", ErrorCode::HostSetup),
        }
    }
}

impl std::error::Error for HostError {}

struct StoreData {
    limits: StoreLimits,
}

/// One ready instance with its exports.
struct Slot {
    store: Store<StoreData>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    classify: TypedFunc<(u32, u32), u32>,
    classify_segments: TypedFunc<(u32, u32), u32>,
    result_ptr: TypedFunc<(), u32>,
    result_len: TypedFunc<(), u32>,
}

/// The compiled module, ready to make instances. Cheap to share.
pub struct WasmRuntime {
    engine: Engine,
    pre: InstancePre<StoreData>,
    limits: HostLimits,
}

impl WasmRuntime {
    /// Compiles a module (once), or loads it compiled from the module cache
    /// ([`crate::module_cache`]). With a [`Budget::Deadline`] a thread ticks
    /// the engine's epoch until the engine is dropped.
    pub fn new(module: &[u8], limits: HostLimits) -> Result<WasmRuntime, HostError> {
        let mut config = Config::new();
        match limits.budget {
            Budget::Fuel { .. } => config.consume_fuel(true),
            Budget::Deadline { .. } => config.epoch_interruption(true),
        };
        let engine = Engine::new(&config).map_err(|e| HostError::Setup(e.to_string()))?;
        if let Budget::Deadline { .. } = limits.budget {
            tick_epochs(&engine)?;
        }
        let module = module_cache::load(&engine, module, module_cache::dir().as_deref())
            .map_err(|e| HostError::Setup(e.to_string()))?;
        if let Some(import) = module.imports().next() {
            return Err(HostError::Setup(format!(
                "the module imports `{}::{}`; it must have no imports",
                import.module(),
                import.name()
            )));
        }
        let linker: Linker<StoreData> = Linker::new(&engine);
        let pre = linker.instantiate_pre(&module).map_err(|e| HostError::Setup(e.to_string()))?;
        Ok(WasmRuntime { engine, pre, limits })
    }

    /// The embedded module with the given limits.
    pub fn embedded(limits: HostLimits) -> Result<WasmRuntime, HostError> {
        WasmRuntime::new(MODULE, limits)
    }

    /// The limits in force.
    pub fn limits(&self) -> HostLimits {
        self.limits
    }

    /// A fresh instance with `pack` loaded.
    fn instantiate(&self, pack: &[u8]) -> Result<Slot, HostError> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.max_memory_bytes)
            .instances(1)
            .tables(4)
            .memories(1)
            .build();
        let mut store = Store::new(&self.engine, StoreData { limits });
        store.limiter(|d| &mut d.limits);
        self.limits.budget.for_loading().arm(&mut store, pack.len()).map_err(setup)?;
        let instance = self.pre.instantiate(&mut store).map_err(setup)?;
        let version: TypedFunc<(), u32> = instance.get_typed_func(&mut store, "dg_abi_version").map_err(setup)?;
        let v = version.call(&mut store, ()).map_err(setup)?;
        if v != ABI_VERSION {
            return Err(HostError::Setup(format!("module speaks ABI version {v}, this host speaks {ABI_VERSION}")));
        }
        let mut slot = Slot {
            memory: instance
                .get_memory(&mut store, "memory")
                .ok_or_else(|| HostError::Setup("module exports no memory".into()))?,
            alloc: instance.get_typed_func(&mut store, "dg_alloc").map_err(setup)?,
            free: instance.get_typed_func(&mut store, "dg_free").map_err(setup)?,
            classify: instance.get_typed_func(&mut store, "dg_classify").map_err(setup)?,
            classify_segments: instance.get_typed_func(&mut store, "dg_classify_segments").map_err(setup)?,
            result_ptr: instance.get_typed_func(&mut store, "dg_result_ptr").map_err(setup)?,
            result_len: instance.get_typed_func(&mut store, "dg_result_len").map_err(setup)?,
            store,
        };
        let load: TypedFunc<(u32, u32), u32> =
            instance.get_typed_func(&mut slot.store, "dg_load_pack").map_err(setup)?;
        call_with_buffer(&mut slot, pack, |slot, ptr, len| load.call(&mut slot.store, (ptr, len)))?;
        Ok(slot)
    }
}

/// Starts the thread that advances `engine`'s epoch every [`TICK`]. It
/// holds the engine weakly and stops once the engine is gone.
fn tick_epochs(engine: &Engine) -> Result<(), HostError> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("distillguard-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(TICK);
            }
        })
        .map(|_| ())
        .map_err(|e| HostError::Setup(format!("cannot start the epoch thread: {e}")))
}

/// Epoch ticks for a deadline of `ms`: one more than `ms` spans, as the
/// tick in progress when the deadline is set may end at once. A deadline of
/// 0 is 0 ticks: the guest stops at its first check, on every machine.
fn ticks(ms: u64) -> u64 {
    if ms == 0 {
        return 0;
    }
    ms.div_ceil(TICK.as_millis() as u64).saturating_add(1)
}

fn setup(e: impl fmt::Display) -> HostError {
    HostError::Setup(e.to_string())
}

fn trap(e: wasmtime::Error) -> HostError {
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => return HostError::OutOfFuel,
        Some(wasmtime::Trap::Interrupt) => return HostError::DeadlineExceeded,
        _ => {}
    }
    HostError::Trap(format!("{e:#}").lines().next().unwrap_or("trap").to_string())
}

/// Copies `input` into guest memory, runs `f(ptr, len) -> status`, frees the
/// buffer and returns the result bytes (or the guest's error).
fn call_with_buffer(
    slot: &mut Slot,
    input: &[u8],
    f: impl FnOnce(&mut Slot, u32, u32) -> wasmtime::Result<u32>,
) -> Result<Vec<u8>, HostError> {
    let len = u32::try_from(input.len())
        .map_err(|_| HostError::InputTooLarge { len: input.len(), cap: u32::MAX as usize })?;
    let ptr = slot.alloc.call(&mut slot.store, len).map_err(trap)?;
    if ptr == 0 {
        return Err(HostError::Trap(format!("the guest could not allocate {len} bytes (memory cap)")));
    }
    slot.memory.write(&mut slot.store, ptr as usize, input).map_err(|e| HostError::Trap(e.to_string()))?;
    let status = f(slot, ptr, len).map_err(trap)?;
    slot.free.call(&mut slot.store, (ptr, len)).map_err(trap)?;
    let rptr = slot.result_ptr.call(&mut slot.store, ()).map_err(trap)? as usize;
    let rlen = slot.result_len.call(&mut slot.store, ()).map_err(trap)? as usize;
    let data = slot.memory.data(&slot.store);
    let bytes = data
        .get(rptr..rptr.saturating_add(rlen))
        .ok_or_else(|| HostError::Trap("result out of bounds".into()))?
        .to_vec();
    if status != 0 {
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let code = v["error"]["code"].as_str().unwrap_or("E???").to_string();
        let message = v["error"]["message"].as_str().unwrap_or("unknown guest error").to_string();
        return Err(HostError::Guest { code, message });
    }
    Ok(bytes)
}

/// Pool statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Instances created (including the first ones).
    pub instantiated: u64,
    /// Instances dropped after a trap, fuel exhaustion or a passed deadline.
    pub replaced: u64,
    /// Idle instances replaced by [`WasmPool::retire_idle_above`].
    pub retired: u64,
}

/// A pool of ready instances holding one pack. `classify` may be called from
/// many threads; each call checks an instance out and returns it after.
pub struct WasmPool {
    runtime: Arc<WasmRuntime>,
    pack: Arc<[u8]>,
    idle: Mutex<Vec<Slot>>,
    stats: Mutex<PoolStats>,
}

impl WasmPool {
    /// A pool for `pack` (compiled bytes). One instance is made now, so a
    /// pack the guest refuses is reported here.
    pub fn new(runtime: Arc<WasmRuntime>, pack: &[u8]) -> Result<WasmPool, HostError> {
        let pool = WasmPool {
            runtime,
            pack: pack.into(),
            idle: Mutex::new(Vec::new()),
            stats: Mutex::new(PoolStats::default()),
        };
        let slot = pool.fresh()?;
        pool.idle.lock().expect("pool lock").push(slot);
        Ok(pool)
    }

    fn fresh(&self) -> Result<Slot, HostError> {
        let slot = self.runtime.instantiate(&self.pack)?;
        self.stats.lock().expect("stats lock").instantiated += 1;
        Ok(slot)
    }

    /// Statistics so far.
    pub fn stats(&self) -> PoolStats {
        *self.stats.lock().expect("stats lock")
    }

    /// Classifies one text; returns the verdict JSON.
    pub fn classify_json(&self, text: &[u8]) -> Result<String, HostError> {
        self.call(text, false)
    }

    /// Classifies segments with roles, framed by
    /// [`distillguard::encode_segments`]; returns the verdict JSON.
    pub fn classify_segments_json(&self, framed: &[u8]) -> Result<String, HostError> {
        self.call(framed, true)
    }

    fn call(&self, text: &[u8], segments: bool) -> Result<String, HostError> {
        let limits = self.runtime.limits;
        if text.len() > limits.max_input_bytes {
            return Err(HostError::InputTooLarge { len: text.len(), cap: limits.max_input_bytes });
        }
        let slot = self.idle.lock().expect("pool lock").pop();
        let mut slot = match slot {
            Some(s) => s,
            None => self.fresh()?,
        };
        let armed = limits.budget.arm(&mut slot.store, text.len());
        let result = armed.map_err(|e| HostError::Trap(e.to_string())).and_then(|()| {
            call_with_buffer(&mut slot, text, |s, ptr, len| {
                let f = if segments { &s.classify_segments } else { &s.classify };
                f.call(&mut s.store, (ptr, len))
            })
        });
        match &result {
            Err(HostError::Trap(_) | HostError::OutOfFuel | HostError::DeadlineExceeded) => {
                self.stats.lock().expect("stats lock").replaced += 1;
                drop(slot);
            }
            _ => {
                let mut idle = self.idle.lock().expect("pool lock");
                if idle.len() < limits.pool_size.max(1) {
                    idle.push(slot);
                }
            }
        }
        result.and_then(|b| String::from_utf8(b).map_err(|_| HostError::Trap("verdict is not UTF-8".into())))
    }

    /// Makes fresh instances until `n` are idle (at most `pool_size`), so
    /// that many requests at once find one ready.
    pub fn fill(&self, n: usize) -> Result<(), HostError> {
        let n = n.min(self.runtime.limits.pool_size.max(1));
        while self.idle.lock().expect("pool lock").len() < n {
            let slot = self.fresh()?;
            self.idle.lock().expect("pool lock").push(slot);
        }
        Ok(())
    }

    /// Replaces the idle instances whose linear memory grew above
    /// `max_bytes` with fresh ones and returns how many. A wasm memory grows
    /// with the largest input an instance classified and never shrinks, so
    /// after a burst of big prompts this is what gives the memory back. The
    /// fresh instances are made first (one `instantiate` each, see
    /// `measure_instantiate`), here, so no request waits for one.
    ///
    /// ```no_run
    /// # use distillguard_host::wasm::{WasmPool, WasmRuntime, HostLimits};
    /// # use std::sync::Arc;
    /// # fn f(pack: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = WasmPool::new(Arc::new(WasmRuntime::embedded(HostLimits::default())?), pack)?;
    /// pool.classify_json(&vec![b'a'; 1 << 20])?;
    /// pool.retire_idle_above(32 << 20)?;
    /// # Ok(()) }
    /// ```
    pub fn retire_idle_above(&self, max_bytes: usize) -> Result<usize, HostError> {
        let over = |s: &Slot| s.memory.data_size(&s.store) > max_bytes;
        let n = self.idle.lock().expect("pool lock").iter().filter(|s| over(s)).count();
        if n == 0 {
            return Ok(0);
        }
        let mut fresh = Vec::with_capacity(n);
        for _ in 0..n {
            fresh.push(self.fresh()?);
        }
        let retired: Vec<Slot> = {
            let mut idle = self.idle.lock().expect("pool lock");
            let (keep, retired): (Vec<Slot>, Vec<Slot>) = idle.drain(..).partition(|s| !over(s));
            *idle = keep;
            let room = self.runtime.limits.pool_size.max(1).saturating_sub(idle.len());
            idle.extend(fresh.into_iter().take(room));
            retired
        };
        self.stats.lock().expect("stats lock").retired += retired.len() as u64;
        // The memories are unmapped here, outside the pool lock.
        Ok(retired.len())
    }

    /// Time to create one instance and load the pack into it (for `bench`).
    pub fn measure_instantiate(&self) -> Result<std::time::Duration, HostError> {
        let t = Instant::now();
        let _slot = self.runtime.instantiate(&self.pack)?;
        Ok(t.elapsed())
    }
}
