//! Mailbox controllers (Linux's `drivers/mailbox/`): doorbells through which the CPU talks
//! to another processor, here the Raspberry Pi's VideoCore.

pub mod bcm2835_mailbox;
