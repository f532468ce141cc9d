//! Everything the emulator keeps (and persists with `--state-dir`): each API's state, and
//! which part of it each handler gets.

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::config::EmulatorConfig;
use crate::error::EmulatorError;
use crate::huawei::HuaweiState;
use crate::persist::Store;
use crate::tencent::TencentState;

/// Version of the state file format.
const STATE_FORMAT: u32 = 1;

/// Everything the emulator keeps (and persists with `--state-dir`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct World {
    pub(crate) format: u32,
    pub(crate) tencent: TencentState,
    pub(crate) huawei: HuaweiState,
}

impl Default for World {
    fn default() -> Self {
        Self {
            format: STATE_FORMAT,
            tencent: TencentState::default(),
            huawei: HuaweiState::default(),
        }
    }
}

impl AsMut<TencentState> for World {
    fn as_mut(&mut self) -> &mut TencentState {
        &mut self.tencent
    }
}

impl AsMut<HuaweiState> for World {
    fn as_mut(&mut self) -> &mut HuaweiState {
        &mut self.huawei
    }
}

impl App<World> {
    pub(crate) fn new(config: &EmulatorConfig) -> Result<Self, EmulatorError> {
        let store = Store::open(config.state_dir.as_deref())?;
        let world: World = store.load()?.unwrap_or_default();
        if world.format != STATE_FORMAT {
            return Err(EmulatorError::StateFormat {
                path: config.state_dir.clone().unwrap_or_default(),
                message: format!(
                    "state format {} is not supported (expected {STATE_FORMAT})",
                    world.format
                ),
            });
        }
        Ok(Self::with_state(config, store, world))
    }
}
