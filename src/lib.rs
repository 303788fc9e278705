//! stackward: self-hosted SaaS tool-stack and licence governance.

pub mod actions;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod connectors;
pub mod context;
pub mod db;
pub mod fakes;
pub mod findings;
pub mod inventory;
pub mod notify;
pub mod renewals;
pub mod scheduler;
pub mod stack_audit;
pub mod sync;
pub mod time;
pub mod web;
pub mod workflow;
