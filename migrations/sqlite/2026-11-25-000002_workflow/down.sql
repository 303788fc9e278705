DROP TABLE workflow_policies;
DROP TABLE request_events;
DROP TABLE approval_steps;
DROP TABLE requests;
