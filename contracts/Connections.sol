// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {OrganizationRegistry} from "./OrganizationRegistry.sol";

/// @title Connections
/// @notice Invitations between organisations and the resulting (symmetric) connections. An
///         invitation names a VAT number, so it can be sent before the invited organisation is on
///         the network; whoever is registered with that VAT when answering may accept or refuse it.
contract Connections {
    enum InvitationStatus {
        None,
        Pending,
        Accepted,
        Refused
    }

    struct Invitation {
        address inviter;
        InvitationStatus status;
        uint64 createdAt;
        uint64 answeredAt;
        /// @dev the account that accepted or refused; zero while pending
        address invitee;
        string vat;
        string name;
        string contactEmail;
    }

    /// @notice The invitation id is zero.
    error InvalidInvitationId();
    /// @notice The invitation id has been used before.
    error InvitationIdTaken(bytes32 id);
    /// @notice The caller is not a registered organisation.
    error InviterNotRegistered(address caller);
    /// @notice The invited VAT number is empty.
    error EmptyVat();
    /// @notice The invited VAT number is the inviter's own.
    error CannotInviteSelf(string vat);
    /// @notice The inviter already has an open invitation to this VAT number.
    error InvitationAlreadyPending(bytes32 pendingId, string vat);
    /// @notice The two organisations are already connected.
    error AlreadyConnected(address a, address b);
    /// @notice There is no invitation with this id.
    error InvitationNotFound(bytes32 id);
    /// @notice The invitation was already accepted or refused.
    error InvitationNotPending(bytes32 id, InvitationStatus status);
    /// @notice The caller is not the organisation registered with the invited VAT number.
    error NotInvitee(bytes32 id, address caller);

    event InvitationCreated(bytes32 indexed id, address indexed inviter, string vat);
    event InvitationAccepted(bytes32 indexed id, address indexed inviter, address indexed invitee);
    event InvitationRefused(bytes32 indexed id, address indexed inviter, address indexed invitee);

    OrganizationRegistry public immutable registry;

    mapping(bytes32 => Invitation) private _invitations;
    /// @dev inviter => keccak256(vat) => id of the open invitation (zero if none)
    mapping(address => mapping(bytes32 => bytes32)) private _pending;
    mapping(address => mapping(address => bool)) private _connected;
    mapping(address => address[]) private _connectionsOf;

    constructor(OrganizationRegistry registry_) {
        registry = registry_;
    }

    /// @notice Invites the organisation with VAT number `vat` (registered or not yet) to connect.
    function invite(bytes32 id, string calldata vat, string calldata name, string calldata contactEmail)
        external
    {
        if (!registry.isRegistered(msg.sender)) revert InviterNotRegistered(msg.sender);
        if (id == bytes32(0)) revert InvalidInvitationId();
        if (_invitations[id].status != InvitationStatus.None) revert InvitationIdTaken(id);
        if (bytes(vat).length == 0) revert EmptyVat();
        address invitee = registry.accountByVat(vat);
        if (invitee == msg.sender) revert CannotInviteSelf(vat);
        if (invitee != address(0) && _connected[msg.sender][invitee]) {
            revert AlreadyConnected(msg.sender, invitee);
        }
        bytes32 vatHash = keccak256(bytes(vat));
        bytes32 open = _pending[msg.sender][vatHash];
        if (open != bytes32(0)) revert InvitationAlreadyPending(open, vat);

        _invitations[id] = Invitation({
            inviter: msg.sender,
            status: InvitationStatus.Pending,
            createdAt: uint64(block.timestamp),
            answeredAt: 0,
            invitee: address(0),
            vat: vat,
            name: name,
            contactEmail: contactEmail
        });
        _pending[msg.sender][vatHash] = id;
        emit InvitationCreated(id, msg.sender, vat);
    }

    /// @notice Accepts a pending invitation; the inviter and the caller become connected.
    /// @dev Accepting when the two are already connected (crossed invitations) closes the
    ///      invitation without changing the connection.
    function accept(bytes32 id) external {
        Invitation storage inv = _answer(id, InvitationStatus.Accepted);
        address inviter = inv.inviter;
        if (!_connected[inviter][msg.sender]) {
            _connected[inviter][msg.sender] = true;
            _connected[msg.sender][inviter] = true;
            _connectionsOf[inviter].push(msg.sender);
            _connectionsOf[msg.sender].push(inviter);
        }
        emit InvitationAccepted(id, inviter, msg.sender);
    }

    /// @notice Refuses a pending invitation.
    function refuse(bytes32 id) external {
        Invitation storage inv = _answer(id, InvitationStatus.Refused);
        emit InvitationRefused(id, inv.inviter, msg.sender);
    }

    function isConnected(address a, address b) external view returns (bool) {
        return _connected[a][b];
    }

    /// @notice The accounts `account` is connected with, in the order the connections were made.
    function connectionsOf(address account) external view returns (address[] memory) {
        return _connectionsOf[account];
    }

    function getInvitation(bytes32 id) external view returns (Invitation memory) {
        return _invitations[id];
    }

    /// @notice The id of `inviter`'s open invitation to `vat`, or zero.
    function pendingInvitation(address inviter, string calldata vat) external view returns (bytes32) {
        return _pending[inviter][keccak256(bytes(vat))];
    }

    function _answer(bytes32 id, InvitationStatus outcome) private returns (Invitation storage inv) {
        inv = _invitations[id];
        if (inv.status == InvitationStatus.None) revert InvitationNotFound(id);
        if (inv.status != InvitationStatus.Pending) revert InvitationNotPending(id, inv.status);
        bytes32 vatHash = keccak256(bytes(inv.vat));
        address invitee = registry.accountByVat(inv.vat);
        if (invitee == address(0) || invitee != msg.sender || invitee == inv.inviter) {
            revert NotInvitee(id, msg.sender);
        }
        inv.status = outcome;
        inv.invitee = msg.sender;
        inv.answeredAt = uint64(block.timestamp);
        delete _pending[inv.inviter][vatHash];
    }
}
