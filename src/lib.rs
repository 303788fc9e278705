//! stackward: self-hosted SaaS tool-stack and licence governance.

pub mod audit;
pub mod auth;
pub mod config;
pub mod context;
pub mod db;
pub mod inventory;
pub mod time;
pub mod web;
