"""The gateway agent: device pollers, durable outbox, MQTT uplink and command handling.

Python API (used by ``hinode edge run`` and ``hinode demo``)::

    from edge import Agent, load_gateway_config
    from messages import ScaledClock, WallClock

    config = load_gateway_config("firmware_configs/gateways/factory-a.yaml")  # ConfigError if bad
    agent = Agent(config, clock=WallClock())
    task = asyncio.create_task(agent.run())   # runs until agent.stop() or cancellation
    ...
    agent.stats.readings_polled               # AgentStats: live counters for a dashboard
    agent.stats.readings_acked                #   readings the broker acknowledged
    agent.stats.messages_published, agent.stats.messages_acked
    agent.stats.outbox_depth                  #   messages waiting for their PUBACK
    agent.stats.last_readings["meter-1"]      #   list[messages.Reading] of the newest poll
    agent.stats.device_online["meter-1"]      #   True / False / None (not polled yet)
    agent.stats.connected, agent.stats.failsafe_active
    agent.stop(); await task                  # clean stop: goodbye state, outbox closed

``Agent(config, *, clock, drivers=None, connector=None, outbox_synchronous="FULL",
ble_transport=None, vehicle_state=None, vehicle_routes=None)``: *drivers* opens the Modbus
devices (default: through :mod:`edge.modbus`); tests and simulations may pass their own factory of
:class:`edge.devices.DeviceDriver`. *connector* replaces the paho MQTT adapter. *ble_transport* is
the Bluetooth adapter for ``kind: ble`` devices (bleak by default; tests pass one over bumble);
*vehicle_state* reads a vehicle's own interface for ``kind: gnss`` devices and
*vehicle_routes* hands a shuttle the route of a route command. ``GatewayConfig`` can
also be built in code (``GatewayConfig(...)`` or ``parse_gateway_config(yaml_text)``).

``check_gateway(config, *, clock, ble_transport=None)`` returns one :class:`CheckLine` per broker
and device: Modbus devices are polled, BLE devices must be advertising, GNSS receivers must fix.
"""

from edge.agent import Agent, DriverFactory
from edge.check import CheckLine, check_gateway
from edge.config import GatewayConfig, load_gateway_config, parse_gateway_config
from edge.stats import AgentStats

__all__ = [
    "Agent",
    "AgentStats",
    "CheckLine",
    "DriverFactory",
    "GatewayConfig",
    "check_gateway",
    "load_gateway_config",
    "parse_gateway_config",
]
