//! The transport seam over btleplug: the system's Bluetooth stack (BlueZ over the system
//! D-Bus on Linux).
//!
//! Failures are told apart so the caller learns what to fix: no system D-Bus at all, a
//! bus without bluetoothd, no adapter, or no matching device within the timeout.

use crate::transport::{BleError, BleResult, BleTransport, DeviceQuery, FoundDevice, LinkEvent};
use btleplug::api::{
    CentralEvent, CharPropFlags, Characteristic, Manager as _, Peripheral as _, ScanFilter, WriteType,
};
use btleplug::api::Central as _;
use btleplug::platform::{Adapter, Manager, Peripheral};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{timeout_at, Instant};
use uuid::Uuid;

/// How long one connection attempt may take before it counts as failed.
const CONNECT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Link {
    adapter: Option<Adapter>,
    peripheral: Option<Peripheral>,
    /// Forward notifications and disconnect events of the current connection.
    forwarders: Vec<JoinHandle<()>>,
}

/// One BLE device through btleplug.
pub struct BtleplugTransport {
    link: tokio::sync::Mutex<Link>,
    events_tx: mpsc::UnboundedSender<LinkEvent>,
    events_rx: Mutex<Option<mpsc::UnboundedReceiver<LinkEvent>>>,
}

impl Default for BtleplugTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl BtleplugTransport {
    pub fn new() -> Self {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        BtleplugTransport {
            link: tokio::sync::Mutex::new(Link::default()),
            events_tx,
            events_rx: Mutex::new(Some(events_rx)),
        }
    }
}

fn stack(e: btleplug::Error) -> BleError {
    BleError::Stack(e.to_string())
}

/// The first adapter, telling "no bus", "no bluetoothd" and "no adapter" apart.
pub async fn first_adapter() -> BleResult<Adapter> {
    let manager = Manager::new().await.map_err(|e| BleError::NoSystemBus(e.to_string()))?;
    let adapters = manager.adapters().await.map_err(|e| BleError::NoBluetoothDaemon(e.to_string()))?;
    adapters.into_iter().next().ok_or(BleError::NoAdapter)
}

async fn describe(peripheral: &Peripheral) -> Option<FoundDevice> {
    let properties = peripheral.properties().await.ok().flatten()?;
    Some(FoundDevice {
        address: properties.address.to_string(),
        name: properties.local_name.or(properties.advertisement_name),
    })
}

async fn matching_peripheral(adapter: &Adapter, query: &DeviceQuery) -> Option<(Peripheral, FoundDevice)> {
    for peripheral in adapter.peripherals().await.ok()? {
        if let Some(found) = describe(&peripheral).await {
            if query.matches(&found.address, found.name.as_deref()) {
                return Some((peripheral, found));
            }
        }
    }
    None
}

fn find_characteristic(peripheral: &Peripheral, uuid: Uuid) -> BleResult<Characteristic> {
    peripheral
        .characteristics()
        .into_iter()
        .find(|c| c.uuid == uuid)
        .ok_or(BleError::NoCharacteristic(uuid))
}

impl BleTransport for BtleplugTransport {
    fn find<'a>(&'a self, query: &'a DeviceQuery, timeout: Duration) -> BoxFuture<'a, BleResult<FoundDevice>> {
        async move {
            let deadline = Instant::now() + timeout;
            let not_found = || BleError::NotFound { what: query.describe(), timeout };
            let adapter = timeout_at(deadline, first_adapter()).await.map_err(|_| BleError::TimedOut {
                what: "reaching the Bluetooth stack".into(),
                timeout,
            })??;
            let mut events = adapter.events().await.map_err(stack)?;
            if let Err(e) = adapter.start_scan(ScanFilter::default()).await {
                // Devices bluez already knows can still match; say why none might appear.
                tracing::warn!(error = %e, "BLE scan did not start; looking only at known devices");
            }
            let found = loop {
                if let Some(found) = matching_peripheral(&adapter, query).await {
                    break Some(found);
                }
                match timeout_at(deadline, events.next()).await {
                    Ok(Some(_)) => continue,
                    // The event stream ended: nothing new will be discovered.
                    Ok(None) | Err(_) => break None,
                }
            };
            let _ = adapter.stop_scan().await;
            let (peripheral, device) = match found {
                Some(found) => found,
                None => match matching_peripheral(&adapter, query).await {
                    Some(found) => found,
                    None => return Err(not_found()),
                },
            };
            tracing::info!(address = %device.address, name = ?device.name, "BLE device found");
            let mut link = self.link.lock().await;
            link.adapter = Some(adapter);
            link.peripheral = Some(peripheral);
            Ok(device)
        }
        .boxed()
    }

    fn connect<'a>(&'a self, device: &'a FoundDevice, attempts: u32) -> BoxFuture<'a, BleResult<()>> {
        async move {
            let mut link = self.link.lock().await;
            let (Some(adapter), Some(peripheral)) = (link.adapter.clone(), link.peripheral.clone()) else {
                return Err(BleError::NotConnected);
            };
            let mut errors: Vec<String> = Vec::new();
            let attempts = attempts.max(1);
            for attempt in 1..=attempts {
                let tried = tokio::time::timeout(CONNECT_ATTEMPT_TIMEOUT, async {
                    if !peripheral.is_connected().await.unwrap_or(false) {
                        peripheral.connect().await?;
                    }
                    peripheral.discover_services().await
                })
                .await;
                match tried {
                    Ok(Ok(())) => {
                        for old in link.forwarders.drain(..) {
                            old.abort();
                        }
                        let notifications = peripheral.notifications().await.map_err(stack)?;
                        let tx = self.events_tx.clone();
                        link.forwarders.push(tokio::spawn(async move {
                            let mut notifications = notifications;
                            while let Some(n) = notifications.next().await {
                                let event = LinkEvent::Notification { characteristic: n.uuid, value: n.value };
                                if tx.send(event).is_err() {
                                    return;
                                }
                            }
                        }));
                        let adapter_events = adapter.events().await.map_err(stack)?;
                        let tx = self.events_tx.clone();
                        let id = peripheral.id();
                        link.forwarders.push(tokio::spawn(async move {
                            let mut adapter_events = adapter_events;
                            while let Some(event) = adapter_events.next().await {
                                if matches!(&event, CentralEvent::DeviceDisconnected(p) if *p == id) {
                                    let _ = tx.send(LinkEvent::Disconnected);
                                    return;
                                }
                            }
                        }));
                        return Ok(());
                    }
                    Ok(Err(e)) => errors.push(e.to_string()),
                    Err(_) => errors.push(format!("no answer within {} s", CONNECT_ATTEMPT_TIMEOUT.as_secs())),
                }
                tracing::warn!(address = %device.address, attempt, error = ?errors.last(), "BLE connect failed");
            }
            errors.dedup();
            Err(BleError::Connect { address: device.address.clone(), attempts, reason: errors.join("; then ") })
        }
        .boxed()
    }

    fn subscribe(&self, characteristic: Uuid) -> BoxFuture<'_, BleResult<()>> {
        async move {
            let peripheral = self.link.lock().await.peripheral.clone().ok_or(BleError::NotConnected)?;
            let c = find_characteristic(&peripheral, characteristic)?;
            peripheral.subscribe(&c).await.map_err(stack)
        }
        .boxed()
    }

    fn write<'a>(&'a self, characteristic: Uuid, bytes: &'a [u8]) -> BoxFuture<'a, BleResult<()>> {
        async move {
            let peripheral = self.link.lock().await.peripheral.clone().ok_or(BleError::NotConnected)?;
            let c = find_characteristic(&peripheral, characteristic)?;
            let kind = if c.properties.contains(CharPropFlags::WRITE_WITHOUT_RESPONSE) {
                WriteType::WithoutResponse
            } else {
                WriteType::WithResponse
            };
            peripheral.write(&c, bytes, kind).await.map_err(|e| BleError::Write(e.to_string()))
        }
        .boxed()
    }

    fn disconnect(&self) -> BoxFuture<'_, BleResult<()>> {
        async move {
            let mut link = self.link.lock().await;
            for old in link.forwarders.drain(..) {
                old.abort();
            }
            if let Some(peripheral) = &link.peripheral {
                if peripheral.is_connected().await.unwrap_or(false) {
                    peripheral.disconnect().await.map_err(stack)?;
                }
            }
            Ok(())
        }
        .boxed()
    }

    fn take_events(&self) -> Option<mpsc::UnboundedReceiver<LinkEvent>> {
        self.events_rx.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}
