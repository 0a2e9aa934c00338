--
-- The suites' server "emu" on the BLS emulator (BLS_EMULATOR_URL), a user
-- mapping for the current user with the emulator's keys, and the foreign
-- tables IMPORT FOREIGN SCHEMA gives.  Two psql variables, optional, say
-- what differs:
--   emu_options   more server options, after the endpoint:
--                 \set emu_options ', batch_size ''4'''
--   emu_import    what to import (all the tables when unset):
--                 \set emu_import 'LIMIT TO (download_tasks)'
-- Loaded with
--   \set ECHO none
--   \i sql/include/emu_server.sql
--   \set ECHO all
-- and prints nothing.
--
\getenv emulator_url BLS_EMULATOR_URL
\if :{?emu_options}
\else
\set emu_options ''
\endif
\if :{?emu_import}
\else
\set emu_import ''
\endif
CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'emulator_url' :emu_options);
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls :emu_import FROM SERVER emu INTO public;
\unset emu_options
\unset emu_import
