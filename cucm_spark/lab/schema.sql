-- The lab's tables: a small, faithful subset of CUCM's Informix schema.
-- Names and columns follow CUCM's data dictionary so that SQL written for a real
-- cluster (executeSQLQuery) runs here unchanged.

CREATE TABLE typeclass (enum INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE typedeviceprotocol (enum INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE typemodel (
    enum INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    moniker TEXT NOT NULL,
    tkclass INTEGER NOT NULL DEFAULT 1,
    tkdeviceprotocol INTEGER NOT NULL
);

CREATE TABLE routepartition (pkid TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, description TEXT);
CREATE TABLE callingsearchspace (pkid TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, description TEXT);
CREATE TABLE devicepool (pkid TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE);
CREATE TABLE location (pkid TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE);
CREATE TABLE commonphoneconfig (pkid TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE);
CREATE TABLE presencegroup (pkid TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE);

CREATE TABLE enduser (
    pkid TEXT PRIMARY KEY,
    userid TEXT NOT NULL UNIQUE COLLATE NOCASE,
    firstname TEXT,
    lastname TEXT NOT NULL DEFAULT '',
    mailid TEXT,
    department TEXT,
    telephonenumber TEXT,
    fkpresencegroup TEXT REFERENCES presencegroup(pkid),
    enablecti INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE device (
    pkid TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    description TEXT,
    tkmodel INTEGER NOT NULL REFERENCES typemodel(enum),
    tkclass INTEGER NOT NULL DEFAULT 1,
    tkdeviceprotocol INTEGER NOT NULL,
    tkdeviceprotocolside TEXT NOT NULL DEFAULT 'User',
    fkenduser TEXT REFERENCES enduser(pkid) ON DELETE SET NULL,
    fkdevicepool TEXT NOT NULL REFERENCES devicepool(pkid),
    fkcallingsearchspace TEXT REFERENCES callingsearchspace(pkid),
    fkcallingsearchspace_reroute TEXT REFERENCES callingsearchspace(pkid),
    fklocation TEXT NOT NULL REFERENCES location(pkid),
    fkcommonphoneconfig TEXT NOT NULL REFERENCES commonphoneconfig(pkid),
    usetrustedrelaypoint TEXT NOT NULL DEFAULT 'Default',
    builtinbridgestatus TEXT NOT NULL DEFAULT 'Default',
    packetcapturemode TEXT NOT NULL DEFAULT 'None',
    certificateoperation TEXT NOT NULL DEFAULT 'No Pending Operation',
    devicemobilitymode TEXT NOT NULL DEFAULT 'Default'
);
CREATE INDEX device_fkenduser ON device(fkenduser);

CREATE TABLE numplan (
    pkid TEXT PRIMARY KEY,
    dnorpattern TEXT NOT NULL,
    fkroutepartition TEXT REFERENCES routepartition(pkid),
    description TEXT,
    alertingname TEXT,
    tkpatternusage INTEGER NOT NULL DEFAULT 2
);
CREATE UNIQUE INDEX numplan_pattern ON numplan(dnorpattern, IFNULL(fkroutepartition, ''));

CREATE TABLE devicenumplanmap (
    pkid TEXT PRIMARY KEY,
    fkdevice TEXT NOT NULL REFERENCES device(pkid) ON DELETE CASCADE,
    fknumplan TEXT NOT NULL REFERENCES numplan(pkid),
    numplanindex INTEGER NOT NULL,
    label TEXT,
    display TEXT,
    displayascii TEXT,
    e164mask TEXT,
    UNIQUE (fkdevice, numplanindex)
);
CREATE INDEX devicenumplanmap_fknumplan ON devicenumplanmap(fknumplan);

CREATE TABLE enduserdevicemap (
    pkid TEXT PRIMARY KEY,
    fkenduser TEXT NOT NULL REFERENCES enduser(pkid) ON DELETE CASCADE,
    fkdevice TEXT NOT NULL REFERENCES device(pkid) ON DELETE CASCADE,
    tkuserassociation INTEGER NOT NULL DEFAULT 1,
    defaultprofile INTEGER NOT NULL DEFAULT 0,
    UNIQUE (fkenduser, fkdevice, tkuserassociation)
);
CREATE INDEX enduserdevicemap_fkdevice ON enduserdevicemap(fkdevice);

-- A remote destination belongs to its CTI-RD or Spark-RD: removing the device removes
-- it too, as on CUCM. That is why a migration must re-point destinations first.
CREATE TABLE remotedestination (
    pkid TEXT PRIMARY KEY,
    destination TEXT NOT NULL UNIQUE,
    name TEXT,
    fkenduser TEXT REFERENCES enduser(pkid) ON DELETE CASCADE,
    fkdevice TEXT REFERENCES device(pkid) ON DELETE CASCADE,
    answertoosoontimer INTEGER NOT NULL DEFAULT 1500,
    answertoolatetimer INTEGER NOT NULL DEFAULT 19000,
    delaybeforeringingcell INTEGER NOT NULL DEFAULT 4000,
    enableunifiedmobility INTEGER NOT NULL DEFAULT 1,
    ismobilephone INTEGER NOT NULL DEFAULT 0,
    enablemobileconnect INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX remotedestination_fkdevice ON remotedestination(fkdevice);

-- Not CUCM's: what the lab must remember about itself across restarts with --state.
CREATE TABLE labmeta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
