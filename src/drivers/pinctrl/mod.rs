//! Pin controllers (Linux's `drivers/pinctrl/`): routing a device's signals to the pins
//! its DT node's `pinctrl-0` names.

pub mod pinctrl_bcm2835;
